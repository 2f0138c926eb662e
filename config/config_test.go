package config_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/config"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c, err := config.Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.Addr() != ":8080" || c.LogFormat != "json" || c.LogLevel != slog.LevelInfo ||
		c.BodyLimit != 1<<20 || c.Store != "memory" || len(c.CORSOrigins) != 0 || c.ReadHeaderTimeout != 5*time.Second ||
		c.ShutdownGrace != 15*time.Second || c.IdempotencyTTL != 24*time.Hour || c.BasePath != "" ||
		!c.Metrics || c.MetricsService != "typedapi" {
		t.Errorf("defaults: %+v", c)
	}
}

// TestPrecedence: defaults < file < environment, and PORT below TYPEDAPI_PORT.
func TestPrecedence(t *testing.T) {
	file := writeFile(t, "c.yaml", "port: 9000\nlog_level: debug\nlog_format: text\nbody_limit: 2048\ncors_origins:\n  - https://a.example.com\n  - https://b.example.com\n")
	cases := []struct {
		name     string
		file     string
		env      map[string]string
		port     int
		level    slog.Level
		format   string
		bodyLim  int64
		nOrigins int
	}{
		{"defaults", "", nil, 8080, slog.LevelInfo, "json", 1 << 20, 0},
		{"file over defaults", file, nil, 9000, slog.LevelDebug, "text", 2048, 2},
		{"file from TYPEDAPI_CONFIG", "", map[string]string{"TYPEDAPI_CONFIG": file}, 9000, slog.LevelDebug, "text", 2048, 2},
		{"env over file", file, map[string]string{"TYPEDAPI_PORT": "9100", "TYPEDAPI_LOG_LEVEL": "warn", "TYPEDAPI_CORS_ORIGINS": "https://c.example.com"}, 9100, slog.LevelWarn, "text", 2048, 1},
		{"PORT over file", file, map[string]string{"PORT": "9200"}, 9200, slog.LevelDebug, "text", 2048, 2},
		{"TYPEDAPI_PORT over PORT", "", map[string]string{"PORT": "9200", "TYPEDAPI_PORT": "9300"}, 9300, slog.LevelInfo, "json", 1 << 20, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := config.Load(c.file, env(c.env))
			if err != nil {
				t.Fatal(err)
			}
			if got.Port != c.port || got.LogLevel != c.level || got.LogFormat != c.format || got.BodyLimit != c.bodyLim || len(got.CORSOrigins) != c.nOrigins {
				t.Errorf("got port=%d level=%v format=%s body=%d origins=%v", got.Port, got.LogLevel, got.LogFormat, got.BodyLimit, got.CORSOrigins)
			}
		})
	}
}

// TestBadValues: each bad value is an error naming the key, the value and
// what is allowed.
func TestBadValues(t *testing.T) {
	cases := []struct {
		key, value, allowed string
	}{
		{"port", "http", "whole number from 0 to 65535"},
		{"port", "-5", "whole number from 0 to 65535"},
		{"port", "70000", "whole number from 0 to 65535"},
		{"log_level", "verbose", "one of debug, info, warn, error"},
		{"log_format", "xml", "one of json, text"},
		{"body_limit", "-1", "whole number from 1024"},
		{"body_limit", "1MB", "whole number from 1024"},
		{"read_header_timeout", "5", "duration"},
		{"read_timeout", "0s", "duration"},
		{"write_timeout", "forever", "duration"},
		{"idle_timeout", "-3s", "duration"},
		{"shutdown_grace", "11m", "duration"},
		{"store", "postgres", "one of memory, dynamodb"},
		{"cors_origins", "*", "exact origins"},
		{"cors_origins", "https://a.example.com/path", "exact origins"},
		{"base_path", "shop", "a path such as /shop"},
		{"base_path", "/a/../b", "a path such as /shop"},
		{"dynamodb_endpoint", "localhost:8000", "http(s) URL"},
		{"dynamodb_table", "a b", "3 to 255 characters"},
		{"idempotency_ttl", "1s", "duration"},
		{"metrics", "yes please", "true or false"},
		{"metrics_service", "my service", "3 to 255 characters"},
	}
	for _, c := range cases {
		t.Run(c.key+"="+c.value, func(t *testing.T) {
			_, err := config.Load("", env(map[string]string{config.EnvName(c.key): c.value}))
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("want *config.Error, got %v", err)
			}
			msg := err.Error()
			if ce.Key != c.key || !strings.Contains(msg, c.key) || !strings.Contains(msg, `"`+c.value+`"`) || !strings.Contains(msg, c.allowed) || strings.Contains(msg, "\n") {
				t.Errorf("message %q should name key %s, value %q and %q on one line", msg, c.key, c.value, c.allowed)
			}
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	t.Run("unknown key", func(t *testing.T) {
		_, err := config.Load(writeFile(t, "c.yaml", "prot: 9000\n"), env(nil))
		if err == nil || !strings.Contains(err.Error(), "prot") || !strings.Contains(err.Error(), "known key") {
			t.Errorf("typo in file: %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := config.Load(filepath.Join(t.TempDir(), "none.yaml"), env(nil)); err == nil {
			t.Error("missing file accepted")
		}
	})
	t.Run("bad syntax", func(t *testing.T) {
		if _, err := config.Load(writeFile(t, "c.json", "{port:"), env(nil)); err == nil {
			t.Error("bad JSON accepted")
		}
	})
	t.Run("unknown extension", func(t *testing.T) {
		if _, err := config.Load(writeFile(t, "c.ini", "port=1"), env(nil)); err == nil || !strings.Contains(err.Error(), ".yaml") {
			t.Errorf("ini: %v", err)
		}
	})
	t.Run("toml and json", func(t *testing.T) {
		for name, content := range map[string]string{"c.toml": "port = 9001\n", "c.json": `{"port": 9001}`} {
			c, err := config.Load(writeFile(t, name, content), env(nil))
			if err != nil || c.Port != 9001 {
				t.Errorf("%s: %v %d", name, err, c.Port)
			}
		}
	})
}

func TestSecretsRedacted(t *testing.T) {
	c, err := config.Load("", env(map[string]string{"TYPEDAPI_CURSOR_SECRET": "s3cr3t-value"}))
	if err != nil || c.CursorSecret != "s3cr3t-value" {
		t.Fatalf("secret not loaded: %v", err)
	}
	for _, v := range c.Redacted() {
		if s, ok := v.(string); ok && strings.Contains(s, "s3cr3t") {
			t.Errorf("Redacted shows the secret")
		}
	}
}

// TestMetricsSwitch: metrics are on by default and off by config or env.
func TestMetricsSwitch(t *testing.T) {
	file := writeFile(t, "m.yaml", "metrics: false\nmetrics_service: typedapi-container\n")
	cases := []struct {
		name    string
		file    string
		env     map[string]string
		on      bool
		service string
	}{
		{"default", "", nil, true, "typedapi"},
		{"file", file, nil, false, "typedapi-container"},
		{"env over file", file, map[string]string{"TYPEDAPI_METRICS": "true", "TYPEDAPI_METRICS_SERVICE": "typedapi-serverless"}, true, "typedapi-serverless"},
		{"env off", "", map[string]string{"TYPEDAPI_METRICS": "false"}, false, "typedapi"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := config.Load(c.file, env(c.env))
			if err != nil {
				t.Fatal(err)
			}
			if got.Metrics != c.on || got.MetricsService != c.service {
				t.Errorf("metrics=%v service=%q, want %v %q", got.Metrics, got.MetricsService, c.on, c.service)
			}
		})
	}
}
