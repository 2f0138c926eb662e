package openapi_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestLint runs the pinned Redocly CLI (scripts/tools/redocly, installed by
// scripts/setup under $TYPEDAPI_TOOLS) on both documents the code produces
// and fails on any error or warning. Rules turned off are listed, with the
// reason, in redocly.yaml.
func TestLint(t *testing.T) {
	redocly := filepath.Join(toolsDir(), "redocly", "node_modules", ".bin", "redocly")
	if _, err := os.Stat(redocly); err != nil {
		missingTool(t, "Redocly CLI ("+redocly+"); install it with scripts/setup")
	}
	var pinned struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if b, err := os.ReadFile("../scripts/tools/redocly/package.json"); err != nil || json.Unmarshal(b, &pinned) != nil {
		t.Fatalf("read scripts/tools/redocly/package.json: %v", err)
	}
	config, err := filepath.Abs("redocly.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, doc := range specs(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, doc, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, redocly, "lint", "--config", config, "--format", "json", path)
			// No telemetry, no update check: nothing leaves the machine.
			cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
			out, err := cmd.Output() // exit status 1 on errors; the report says what
			var report struct {
				Totals   struct{ Errors, Warnings, Ignored int } `json:"totals"`
				Version  string                                  `json:"version"`
				Problems []struct {
					RuleID   string `json:"ruleId"`
					Severity string `json:"severity"`
					Message  string `json:"message"`
					Location []struct {
						Pointer string `json:"pointer"`
					} `json:"location"`
				} `json:"problems"`
			}
			if jerr := json.Unmarshal(out, &report); jerr != nil {
				t.Fatalf("redocly lint: %v; output: %s", err, out)
			}
			if want := pinned.Dependencies["@redocly/cli"]; report.Version != want {
				t.Errorf("Redocly CLI %s is installed, scripts/tools/redocly pins %s: run scripts/setup", report.Version, want)
			}
			for _, p := range report.Problems {
				where := ""
				if len(p.Location) > 0 {
					where = p.Location[0].Pointer
				}
				t.Errorf("%s %s at %s: %s", p.Severity, p.RuleID, where, p.Message)
			}
			if report.Totals.Errors+report.Totals.Warnings+report.Totals.Ignored > 0 {
				t.Errorf("redocly: %d errors, %d warnings, %d ignored; want none", report.Totals.Errors, report.Totals.Warnings, report.Totals.Ignored)
			}
		})
	}
}

// toolsDir is where scripts/setup installs npm tools.
func toolsDir() string {
	if d := os.Getenv("TYPEDAPI_TOOLS"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "typedapi")
	}
	return filepath.Join(os.Getenv("HOME"), ".cache", "typedapi")
}

// missingTool fails under CI (where scripts/setup must have installed the
// tool) and skips, saying so, elsewhere.
func missingTool(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("missing %s (CI=true: required)", what)
	}
	t.Skipf("skipped: missing %s", what)
}
