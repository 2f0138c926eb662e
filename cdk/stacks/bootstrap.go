package stacks

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// RepoRoot walks up from dir to the repository root: the directory holding
// both the app's go.mod and cdk/go.mod. Synth runs from cdk/, tests from
// cdk/stacks, so the root is found rather than assumed.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) && fileExists(filepath.Join(dir, "cdk", "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root not found: no directory above holds go.mod and cdk/go.mod")
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// GoArch is the GOARCH that matches a Lambda architecture name.
func GoArch(arch Arch) string {
	if arch == ArchX86 {
		return "amd64"
	}
	return "arm64"
}

// BuildBootstrap compiles the app (./cmd/api) into outDir/bootstrap for the
// provided.al2023 runtime: static (CGO_ENABLED=0), without the legacy go1.x
// RPC mode (lambda.norpc), trimmed and stripped, since size is cold-start
// time. Without tracing it also leaves the OpenTelemetry SDK out
// (notracing): a function that exports no spans does not load it on every
// cold start (docs/OBSERVABILITY.md). outDir then holds only the bootstrap,
// so it is the whole asset.
func BuildBootstrap(repoRoot string, arch Arch, outDir string, tracing bool) error {
	if err := os.MkdirAll(outDir, 0o750); err != nil {
		return err
	}
	// G204: the command and its flags are fixed; only the output path varies.
	cmd := exec.Command("go", "build", "-tags", BootstrapTags(tracing), "-trimpath", "-ldflags=-s -w", //nolint:gosec // see above
		"-o", filepath.Join(outDir, "bootstrap"), "./cmd/api")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+GoArch(arch), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the Lambda bootstrap (GOARCH=%s): %w\n%s", GoArch(arch), err, out.String())
	}
	return nil
}

// BootstrapTags are the build tags of the Lambda bootstrap.
func BootstrapTags(tracing bool) string {
	if tracing {
		return "lambda.norpc"
	}
	return "lambda.norpc,notracing"
}
