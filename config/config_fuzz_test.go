package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/typedapi/typedapi/config"
)

// FuzzLoadEnv: any value in any TYPEDAPI_ variable either loads or stops
// start-up with a config error that names the key; it never panics.
func FuzzLoadEnv(f *testing.F) {
	keys := []string{"port", "log_level", "log_format", "body_limit", "read_header_timeout", "read_timeout",
		"write_timeout", "idle_timeout", "shutdown_grace", "base_path", "cors_origins", "store",
		"dynamodb_table", "dynamodb_region", "dynamodb_endpoint", "idempotency_ttl", "cursor_secret", "host"}
	for i, v := range []string{"8080", "http", "-1", "debug", "xml", "1048576", "1e9", "5s", "-5s", "99999h",
		"/shop", "shop/", "https://a.example.com,https://b.example.com", "*", "dynamodb", "t", "http://127.0.0.1:8000",
		"ftp://x", "\x00", "", " 10 "} {
		f.Add(uint8(i), v)
	}
	f.Fuzz(func(t *testing.T, k uint8, value string) {
		key := keys[int(k)%len(keys)]
		_, err := config.Load("", func(name string) string {
			if name == config.EnvName(key) {
				return value
			}
			return ""
		})
		if err != nil && (!config.IsConfigError(err) || !strings.Contains(err.Error(), key)) {
			t.Fatalf("%s=%q: %v: want a config error naming the key", key, value, err)
		}
	})
}

// FuzzLoadFile: any config file content either loads or is an error; it
// never panics (viper parses YAML, JSON and TOML from untrusted disks).
func FuzzLoadFile(f *testing.F) {
	f.Add("yaml", "port: 9000\nlog_level: debug\ncors_origins:\n  - https://a.example.com\n")
	f.Add("json", `{"port": 9000, "store": "dynamodb", "dynamodb_table": "t-1"}`)
	f.Add("toml", "port = 9000\nlog_format = \"text\"\n")
	f.Add("yaml", "prot: 9000\n")
	f.Add("yaml", "port: [1, 2]\nbody_limit: {a: 1}\n")
	f.Add("json", `{"port": "9000"`)
	f.Add("yaml", "a: &a [*a]\n")
	f.Fuzz(func(t *testing.T, ext, content string) {
		switch ext {
		case "yaml", "json", "toml":
		default:
			ext = "yaml"
		}
		p := filepath.Join(t.TempDir(), "c."+ext)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = config.Load(p, func(string) string { return "" })
	})
}
