// Command coldstart measures, under the real Runtime Interface Emulator,
// what a Lambda cold start costs our bootstrap next to a hello-world
// aws-lambda-go bootstrap (lambdatest/testdata/hello) and a bare Huma +
// algnhsa one (lambdatest/testdata/barehuma), built the same way
// and measured the same way in one run, alternating:
//
//   - cold: from sending the first invocation (which makes the emulator
//     exec the bootstrap) to its answer;
//   - init: the emulator's INIT REPORT, process start to the runtime's
//     first request for an event;
//   - warm: one invocation of a process that is already running;
//   - peak RSS: VmHWM of the bootstrap after -warm invocations;
//   - the stripped binary's size.
//
// Ours is built as the CDK app deploys it by default (lambda.norpc and
// notracing); -traced also measures it built with -c tracing=true's tags,
// which link the OpenTelemetry SDK, as "traced" (tracing stays off: no
// OTEL_* is set). With -inittrace it also runs our bootstrap once with GODEBUG=inittrace=1
// and lists the package initialisers that cost the most. With
// -instructions it also counts, under valgrind, the instructions each
// bootstrap runs to its first request for an event and to its first
// answer: a figure the machine's load does not move (instructions.go).
//
//	go run ./internal/lambdatest/coldstart            # from the module root
//	go run ./internal/lambdatest/coldstart -n 20 -warm 200 -inittrace
//	go run ./internal/lambdatest/coldstart -env GOGC=50     # try a setting on ours
//	go run ./internal/lambdatest/coldstart -against ../old  # and another checkout's bootstrap
//	go run ./internal/lambdatest/coldstart -traced          # and ours with the OpenTelemetry SDK linked
//	go run ./internal/lambdatest/coldstart -n 1 -instructions   # needs valgrind
//	go run ./internal/lambdatest/coldstart -n 1 -instructions -against DIR -callgrind-dir /tmp/cg
//	                                          # then callgrind_annotate --inclusive=yes /tmp/cg/typedapi-init.out
//
// It prints numbers; it asserts nothing (see docs/PERFORMANCE.md).
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/typedapi/typedapi/internal/lambdalocal"
	"github.com/typedapi/typedapi/internal/lambdatest"
)

type subject struct {
	name, pkg, bin string
	dir            string // the module to build pkg in; ours when empty
	tags           string // build tags; lambdatest.DefaultTags when empty
	env            []string
	size           int64
	cold, init     []time.Duration
	warm           []time.Duration
	rssCold, rss   []int64 // peak RSS after the first invocation, after the warm ones
}

func main() {
	n := flag.Int("n", 10, "cold starts per bootstrap (alternating)")
	warm := flag.Int("warm", 100, "warm invocations before reading peak RSS")
	inittrace := flag.Bool("inittrace", false, "also list our costliest package initialisers (GODEBUG=inittrace=1)")
	var env envList
	flag.Var(&env, "env", "KEY=VALUE for our bootstrap's environment, e.g. GOGC=50 (repeatable)")
	traced := flag.Bool("traced", false, "also measure ./cmd/api built with the OpenTelemetry SDK linked (tracing off), as \"traced\"")
	against := flag.String("against", "", "also measure ./cmd/api of this other checkout (e.g. a git worktree of an older commit), as \"before\"")
	instructions := flag.Bool("instructions", false, "also count each bootstrap's instructions to its first event request and first answer (valgrind)")
	flag.StringVar(&callgrindDir, "callgrind-dir", "", "with -instructions, keep each callgrind profile in this directory (for callgrind_annotate)")
	flag.Parse()
	if err := run(*n, *warm, *inittrace, *instructions, *traced, env, *against); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

// envList collects repeated -env flags.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }
func (e *envList) Set(kv string) error {
	if !strings.Contains(kv, "=") {
		return fmt.Errorf("%q is not KEY=VALUE", kv)
	}
	*e = append(*e, kv)
	return nil
}

func run(n, warm int, inittrace, instructions, traced bool, env []string, against string) error {
	if n < 1 || n > 1000 || warm < 1 || warm > 100000 {
		return errors.New("-n must be 1..1000 and -warm 1..100000")
	}
	if instructions {
		if err := haveValgrind(); err != nil {
			return err
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	rie, err := lambdatest.FindEmulator()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "coldstart-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Auth off, explicitly (on Lambda it never defaults to off), so the
	// POST measured is the same work as before auth existed; every build
	// of ./cmd/api below shares this environment (read only).
	ours := append([]string{"TYPEDAPI_AUTH_MODE=off"}, env...)
	subjects := []*subject{
		{name: "typedapi", pkg: "./cmd/api", env: ours},
		{name: "hello", pkg: "./internal/lambdatest/testdata/hello"},
		{name: "barehuma", pkg: "./internal/lambdatest/testdata/barehuma"},
	}
	if traced {
		subjects = append(subjects, &subject{name: "traced", pkg: "./cmd/api", tags: lambdatest.TracingTags, env: ours})
	}
	if against != "" {
		subjects = append(subjects, &subject{name: "before", pkg: "./cmd/api", dir: against, env: ours})
	}
	ctx := context.Background()
	for _, s := range subjects {
		s.bin = filepath.Join(dir, s.name, "bootstrap")
		bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		err := lambdatest.BuildBootstrap(bctx, cmp.Or(s.dir, root), s.pkg, s.bin, cmp.Or(s.tags, lambdatest.DefaultTags))
		cancel()
		if err != nil {
			return err
		}
		fi, err := os.Stat(s.bin)
		if err != nil {
			return err
		}
		s.size = fi.Size()
	}

	events, err := requestEvents()
	if err != nil {
		return err
	}
	fmt.Printf("%d cold starts each, alternating; %d warm invocations before peak RSS\n", n, warm)
	if len(env) > 0 {
		fmt.Printf("typedapi runs with %s\n", strings.Join(env, " "))
	}
	for i := range n {
		// Rotate, so that no bootstrap always goes first.
		order := append(slices.Clone(subjects[i%len(subjects):]), subjects[:i%len(subjects)]...)
		for _, s := range order {
			if err := measure(ctx, rie, s, events, warm); err != nil {
				return fmt.Errorf("%s run %d: %w", s.name, i+1, err)
			}
		}
	}
	report(subjects)
	if instructions {
		if err := countInstructions(ctx, subjects, events[0]); err != nil {
			return err
		}
	}
	if inittrace {
		return traceInits(ctx, rie, subjects[0], events[0])
	}
	return nil
}

// requestEvents are the invocations: a list first (the cold one), then a
// create and a get, as HTTP API (payload v2) events.
func requestEvents() ([][]byte, error) {
	reqs := []lambdalocal.Request{
		{Source: "http", Method: "GET", Target: "/v1/items?limit=10"},
		{Source: "http", Method: "POST", Target: "/v1/items", Header: http.Header{"Content-Type": {"application/json"}},
			Body: []byte(`{"name":"Espresso cup","price":1250,"currency":"EUR","tags":["kitchen"]}`)},
		{Source: "http", Method: "GET", Target: "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV"},
	}
	var out [][]byte
	for _, r := range reqs {
		ev, err := lambdalocal.Build(r)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

func measure(ctx context.Context, rie string, s *subject, events [][]byte, warm int) error {
	e, err := lambdatest.Start(ctx, lambdatest.Options{Emulator: rie, Bootstrap: s.bin, Timeout: 30 * time.Second, Env: s.env})
	if err != nil {
		return err
	}
	defer e.Close()
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	t0 := time.Now()
	status, body, err := e.Invoke(ictx, events[0])
	cold := time.Since(t0)
	if err := answered(status, body, err); err != nil {
		return fmt.Errorf("first invocation: %w\n%s", err, e.Output())
	}
	s.cold = append(s.cold, cold)
	if d, ok := e.InitDuration(); ok {
		s.init = append(s.init, d)
	}
	rss, err := e.PeakRSS()
	if err != nil {
		return err
	}
	s.rssCold = append(s.rssCold, rss)
	for i := range warm {
		t := time.Now()
		status, body, err := e.Invoke(ictx, events[i%len(events)])
		s.warm = append(s.warm, time.Since(t))
		if err := answered(status, body, err); err != nil {
			return fmt.Errorf("warm invocation %d: %w", i+1, err)
		}
	}
	if rss, err = e.PeakRSS(); err != nil {
		return err
	}
	s.rss = append(s.rss, rss)
	return nil
}

// answered checks that an invocation returned an HTTP response, not a
// function error or an emulator failure.
func answered(status int, body []byte, err error) error {
	if err != nil {
		return err
	}
	var r struct {
		StatusCode   int    `json:"statusCode"`
		ErrorMessage string `json:"errorMessage"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &r) != nil || r.StatusCode == 0 || r.StatusCode >= 500 || r.ErrorMessage != "" {
		return fmt.Errorf("emulator %d: %.300s", status, body)
	}
	return nil
}

func report(subjects []*subject) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	fmt.Printf("\n%-9s %11s %11s %11s %11s %11s %11s %15s %14s %11s\n", "bootstrap", "cold p50", "cold p90",
		"init p50", "init p90", "warm p50", "warm p90", "RSS after 1st", "RSS after all", "binary")
	for _, s := range subjects {
		fmt.Printf("%-9s %8s ms %8s ms %8s ms %8s ms %8s ms %8s ms %11.1f MiB %10.1f MiB %7.1f MiB\n", s.name,
			ms(pct(s.cold, 50)), ms(pct(s.cold, 90)), ms(pct(s.init, 50)), ms(pct(s.init, 90)),
			ms(pct(s.warm, 50)), ms(pct(s.warm, 90)), mib(slices.Max(s.rssCold)), mib(slices.Max(s.rss)), mib(s.size))
	}
	fmt.Println("(RSS: the largest VmHWM, peak resident set, of any run)")
	fmt.Println()
	byName := map[string]*subject{}
	for _, s := range subjects {
		byName[s.name] = s
	}
	ratio := func(a, b *subject) {
		fmt.Printf("ratio %s/%s: cold p50 %.2fx, init p50 %.2fx, warm p50 %.2fx\n", a.name, b.name,
			float64(pct(a.cold, 50))/float64(pct(b.cold, 50)),
			float64(pct(a.init, 50))/float64(pct(b.init, 50)),
			float64(pct(a.warm, 50))/float64(pct(b.warm, 50)))
	}
	for _, a := range subjects {
		if b := subjects[1]; a != b {
			ratio(a, b)
		}
	}
	// The comparisons the targets name (docs/PERFORMANCE.md): ours against
	// bare Huma, the SDK linked against not, ours against another checkout.
	for _, p := range [][2]string{{"typedapi", "barehuma"}, {"traced", "typedapi"}, {"typedapi", "before"}, {"traced", "before"}} {
		if a, b := byName[p[0]], byName[p[1]]; a != nil && b != nil {
			ratio(a, b)
		}
	}
}

// pct is the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(i, 0)]
}

var initLine = regexp.MustCompile(`init ([^ ]+) @[0-9.]+ ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs`)

// traceInits runs the bootstrap once with GODEBUG=inittrace=1 and prints
// the total and the costliest package initialisers.
func traceInits(ctx context.Context, rie string, s *subject, event []byte) error {
	e, err := lambdatest.Start(ctx, lambdatest.Options{Emulator: rie, Bootstrap: s.bin, Env: append(slices.Clone(s.env), "GODEBUG=inittrace=1")})
	if err != nil {
		return err
	}
	defer e.Close()
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// The emulator inherits GODEBUG too: only what is printed after the
	// invocation that starts the bootstrap is the bootstrap's.
	before := len(e.Output())
	if err := answered(e.Invoke(ictx, event)); err != nil {
		return err
	}
	type pkgInit struct {
		pkg           string
		ms            float64
		bytes, allocs int64
	}
	var inits []pkgInit
	var total float64
	for _, m := range initLine.FindAllStringSubmatch(e.Output()[before:], -1) {
		ms, _ := strconv.ParseFloat(m[2], 64)
		b, _ := strconv.ParseInt(m[3], 10, 64)
		a, _ := strconv.ParseInt(m[4], 10, 64)
		inits = append(inits, pkgInit{m[1], ms, b, a})
		total += ms
	}
	slices.SortFunc(inits, func(x, y pkgInit) int { return cmp.Compare(y.ms, x.ms) })
	fmt.Printf("\n%s package initialisers: %d, %.2f ms in all; the costliest:\n", s.name, len(inits), total)
	for _, in := range inits[:min(10, len(inits))] {
		fmt.Printf("  %7.3f ms %9d bytes %6d allocs  %s\n", in.ms, in.bytes, in.allocs, in.pkg)
	}
	return nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run from inside the typedapi module")
	}
	return filepath.Dir(gomod), nil
}
