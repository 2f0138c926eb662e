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
	if c.Port != 8080 || c.Addr() != "127.0.0.1:8080" || !c.ListensOnLoopbackOnly() || c.AuthMode != "auto" || c.AuthIssuer != "" || c.AuthJWKSRefresh != 5*time.Minute || c.LogFormat != "json" || c.LogLevel != slog.LevelInfo ||
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
		{"auth_mode", "none", "one of auto, jwt, gateway, off"},
		{"lambda_handler", "http", "one of api, authorizer"},
		{"auth_scope_prefix", "typedapi /", "scope prefix"},
		{"auth_scope_prefix", "typédapi/", "scope prefix"},
		{"auth_issuer", "http://issuer.example.com", "https URL"},
		{"auth_issuer", "issuer.example.com", "https URL"},
		{"auth_issuer", "https://user:pw@issuer.example.com", "https URL"},
		{"auth_jwks_url", "http://10.0.0.1/jwks", "https URL"},
		{"auth_jwks_refresh", "100ms", "duration"},
		{"trusted_proxies", "10.0.0.0/33", "CIDR ranges"},
		{"trusted_proxies", "*", "CIDR ranges"},
		{"trusted_proxies", "vpc.internal", "CIDR ranges"},
		{"trusted_proxies", "fe80::1%eth0", "CIDR ranges"},
		{"public_base_url", "api.example.com", "absolute http(s) URL"},
		{"public_base_url", "ftp://api.example.com", "absolute http(s) URL"},
		{"public_base_url", "https://api.example.com/?a=1", "absolute http(s) URL"},
		{"public_base_url", "https://api.example.com/#top", "absolute http(s) URL"},
		{"public_base_url", "https://user:pw@api.example.com", "absolute http(s) URL"},
		{"public_base_url", "https:///path", "absolute http(s) URL"},
		{"public_base_url", "/api", "absolute http(s) URL"},
		{"rate_limit", "-1", "a number from 0"},
		{"rate_limit", "fast", "a number from 0"},
		{"rate_limit", "NaN", "a number from 0"},
		{"rate_burst", "0", "whole number from 1"},
		{"lambda_stream", "on", "true or false"},
		{"lambda_stream_max_bytes", "300000000", "whole number from 1024 to 200000000"},
		{"lambda_stream_max_duration", "16m", "duration"},
		{"export_concurrency", "0", "whole number from 1 to 1000"},
		{"export_concurrency", "many", "whole number from 1 to 1000"},
		{"events_max_duration", "2h", "duration"},
		{"events_heartbeat", "0s", "duration"},
		{"events_poll_interval", "10ms", "duration"},
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

// TestStreamSettings: the export cap and the event stream's limits, by
// default and as set.
func TestStreamSettings(t *testing.T) {
	c, err := config.Load("", env(nil))
	if err != nil || c.ExportConcurrency != 4 || c.EventsMaxDuration != 5*time.Minute || c.EventsHeartbeat != 15*time.Second || c.EventsPollInterval != 2*time.Second {
		t.Fatalf("defaults: %v %+v", err, c)
	}
	c, err = config.Load("", env(map[string]string{
		"TYPEDAPI_EXPORT_CONCURRENCY":   "16",
		"TYPEDAPI_EVENTS_MAX_DURATION":  "14m",
		"TYPEDAPI_EVENTS_HEARTBEAT":     "30s",
		"TYPEDAPI_EVENTS_POLL_INTERVAL": "500ms",
	}))
	if err != nil || c.ExportConcurrency != 16 || c.EventsMaxDuration != 14*time.Minute || c.EventsHeartbeat != 30*time.Second || c.EventsPollInterval != 500*time.Millisecond {
		t.Fatalf("set: %v %+v", err, c)
	}
}

// TestEdgeSettings: trusted proxies, the public base URL and the rate
// limit as written, normalized.
func TestEdgeSettings(t *testing.T) {
	c, err := config.Load("", env(nil))
	if err != nil || len(c.TrustedProxies) != 0 || c.PublicBaseURL != "" || c.RateLimit != 0 || c.RateBurst != 20 {
		t.Fatalf("defaults: %v %+v", err, c)
	}
	c, err = config.Load("", env(map[string]string{
		"TYPEDAPI_TRUSTED_PROXIES": " 10.0.0.0/16, 192.0.2.7 ,2001:db8::/48, 10.1.2.3/8",
		"TYPEDAPI_PUBLIC_BASE_URL": "https://api.example.com/shop/",
		"TYPEDAPI_RATE_LIMIT":      "2.5",
		"TYPEDAPI_RATE_BURST":      "5",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if want := "10.0.0.0/16 192.0.2.7/32 2001:db8::/48 10.0.0.0/8"; strings.Join(got, " ") != want {
		t.Errorf("trusted_proxies %v, want %s", got, want)
	}
	if c.PublicBaseURL != "https://api.example.com/shop" || c.RateLimit != 2.5 || c.RateBurst != 5 {
		t.Errorf("got %q %v %d", c.PublicBaseURL, c.RateLimit, c.RateBurst)
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

// TestLambdaStream: off by default (a buffered front door), switched on
// by the variable the streaming stack sets, with Lambda's limits.
func TestLambdaStream(t *testing.T) {
	got, err := config.Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.LambdaStream || got.LambdaStreamMaxBytes != 200_000_000 || got.LambdaStreamMaxDuration != 15*time.Minute {
		t.Errorf("defaults: %v %d %v", got.LambdaStream, got.LambdaStreamMaxBytes, got.LambdaStreamMaxDuration)
	}
	got, err = config.Load("", env(map[string]string{"TYPEDAPI_LAMBDA_STREAM": "true",
		"TYPEDAPI_LAMBDA_STREAM_MAX_BYTES": "20000000", "TYPEDAPI_LAMBDA_STREAM_MAX_DURATION": "5m"}))
	if err != nil {
		t.Fatal(err)
	}
	if !got.LambdaStream || got.LambdaStreamMaxBytes != 20_000_000 || got.LambdaStreamMaxDuration != 5*time.Minute {
		t.Errorf("set: %v %d %v", got.LambdaStream, got.LambdaStreamMaxBytes, got.LambdaStreamMaxDuration)
	}
}

// TestAuthKeys: the auth keys are checked together, and a loopback issuer
// may be plain http (the tests' and a laptop's).
func TestAuthKeys(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantKey string // the key the error names; "" for no error
	}{
		{"defaults", nil, ""},
		{"issuer and audience", map[string]string{"TYPEDAPI_AUTH_ISSUER": "https://issuer.example.com/", "TYPEDAPI_AUTH_AUDIENCE": "shop"}, ""},
		{"loopback http issuer", map[string]string{"TYPEDAPI_AUTH_ISSUER": "http://127.0.0.1:9000", "TYPEDAPI_AUTH_AUDIENCE": "shop"}, ""},
		{"localhost http issuer", map[string]string{"TYPEDAPI_AUTH_ISSUER": "http://localhost:9000", "TYPEDAPI_AUTH_AUDIENCE": "shop"}, ""},
		{"explicit JWKS URL", map[string]string{"TYPEDAPI_AUTH_ISSUER": "https://i.example.com", "TYPEDAPI_AUTH_AUDIENCE": "shop", "TYPEDAPI_AUTH_JWKS_URL": "https://keys.example.com/jwks.json"}, ""},
		{"issuer without audience", map[string]string{"TYPEDAPI_AUTH_ISSUER": "https://issuer.example.com/"}, "auth_audience"},
		{"jwt without issuer", map[string]string{"TYPEDAPI_AUTH_MODE": "jwt"}, "auth_issuer"},
		{"authorizer without issuer", map[string]string{"TYPEDAPI_LAMBDA_HANDLER": "authorizer"}, "auth_issuer"},
		{"JWKS URL without issuer", map[string]string{"TYPEDAPI_AUTH_JWKS_URL": "https://keys.example.com/jwks.json"}, "auth_issuer"},
		{"mode is case-insensitive", map[string]string{"TYPEDAPI_AUTH_MODE": "OFF"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Load("", env(c.env))
			var ce *config.Error
			switch {
			case c.wantKey == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantKey != "" && (!errors.As(err, &ce) || ce.Key != c.wantKey || strings.Contains(err.Error(), "\n")):
				t.Fatalf("err = %v, want one line about %s", err, c.wantKey)
			}
		})
	}
	file := writeFile(t, "auth.yaml", "auth_mode: jwt\nauth_issuer: https://issuer.example.com\nauth_audience: shop\nauth_jwks_refresh: 30s\n")
	got, err := config.Load(file, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.AuthMode != "jwt" || got.AuthIssuer != "https://issuer.example.com" || got.AuthAudience != "shop" || got.AuthJWKSRefresh != 30*time.Second {
		t.Errorf("from a file: %+v", got)
	}
}

// TestListensOnLoopbackOnly decides whether auth may be off by default:
// only a listener no other machine can reach.
func TestListensOnLoopbackOnly(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.53": true, "::1": true, "localhost": true,
		"0.0.0.0": false, "::": false, "192.168.1.10": false, "example.com": false,
	} {
		c, err := config.Load("", env(map[string]string{"TYPEDAPI_HOST": host}))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.ListensOnLoopbackOnly(); got != want {
			t.Errorf("host %q: ListensOnLoopbackOnly = %v, want %v", host, got, want)
		}
	}
}
