// Command loadtest drives a running typedapi server on loopback with a mix
// of reads and writes from a fixed number of workers for a bounded time,
// and reports throughput, latency percentiles, errors and the server's
// memory. With -sigterm-after it sends SIGTERM to the server mid-run and
// checks the drain; with -verify it checks that every write the server
// acknowledged is in the store (run it against a restarted server).
//
//	loadtest -url http://127.0.0.1:8080 -c 64 -d 30s -pid $(pgrep -n api)
//
// It refuses any address but loopback: it is a test tool, not a weapon.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	base         string
	workers      int
	duration     time.Duration
	maxRequests  int64
	pid          int
	sigtermAfter time.Duration
	acked        string // file to write acknowledged writes to
	verify       string // file of acknowledged writes to check
	serverLog    string // the server's log, read after a SIGTERM run
}

func run(args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.StringVar(&o.base, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	fs.IntVar(&o.workers, "c", 64, "concurrent workers")
	fs.DurationVar(&o.duration, "d", 30*time.Second, "how long to run")
	fs.Int64Var(&o.maxRequests, "n", 5_000_000, "stop after this many requests in all")
	fs.IntVar(&o.pid, "pid", 0, "server process id: its RSS is sampled (and signalled with -sigterm-after)")
	fs.DurationVar(&o.sigtermAfter, "sigterm-after", 0, "send SIGTERM to -pid after this long and check the drain")
	fs.StringVar(&o.acked, "acked", "", "write every acknowledged write (id version) to this file")
	fs.StringVar(&o.verify, "verify", "", "check that every write in this file is in the store, then exit")
	fs.StringVar(&o.serverLog, "server-log", "", "with -sigterm-after: the server's log (access lines at info), read once it exits, to tell a request it never read from one it dropped")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(o.base)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url must be a loopback address such as 127.0.0.1, got %q", u.Hostname())
	}
	if o.verify != "" {
		return verify(o, out)
	}
	return load(o, out)
}

// result of one request.
type result struct {
	id      string // the X-Request-Id it was sent with
	op      string
	status  int // 0: no answer
	latency time.Duration
	err     error
	sentAt  time.Time
}

// ack is a write the server acknowledged: the item is at least at version.
type ack struct {
	id      string
	version int64
}

func load(o options, out io.Writer) error {
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        o.workers,
			MaxIdleConnsPerHost: o.workers,
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()

	var (
		mu      sync.Mutex
		ids     []string // items created so far, for reads and patches
		results []result
		acks    = map[string]int64{}
		deleted = map[string]bool{}
		sent    int64
	)
	pick := func(r *rand.Rand) (string, int) {
		mu.Lock()
		defer mu.Unlock()
		if len(ids) == 0 {
			return "", 0
		}
		return ids[r.IntN(len(ids))], len(ids)
	}
	record := func(res result, a *ack) {
		mu.Lock()
		defer mu.Unlock()
		results = append(results, res)
		switch {
		case a == nil:
		case a.version < 0: // deleted: never verified, no longer read
			deleted[a.id] = true
			if i := slices.Index(ids, a.id); i >= 0 {
				ids[i] = ids[len(ids)-1]
				ids = ids[:len(ids)-1]
			}
		default:
			if res.op == "create" {
				ids = append(ids, a.id)
			}
			acks[a.id] = max(acks[a.id], a.version)
		}
	}
	next := func() bool {
		mu.Lock()
		defer mu.Unlock()
		sent++
		return sent <= o.maxRequests
	}
	var seq atomic.Int64

	start := time.Now()
	rss := []string{"start " + rssOf(o.pid)}
	var sigtermAt time.Time
	var draining atomic.Bool
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		mid := time.After(o.duration / 2)
		var term <-chan time.Time
		if o.sigtermAfter > 0 {
			term = time.After(o.sigtermAfter)
		}
		for {
			select {
			case <-mid:
				rss = append(rss, "middle "+rssOf(o.pid))
			case <-term:
				rss = append(rss, "at SIGTERM "+rssOf(o.pid))
				mu.Lock()
				sigtermAt = time.Now()
				mu.Unlock()
				draining.Store(true)
				_ = syscall.Kill(o.pid, syscall.SIGTERM)
			case <-stopSampling:
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for w := range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano()))) //nolint:gosec // picks the next request, no secret

			for ctx.Err() == nil && next() {
				id, items := pick(r)
				res, a := oneRequest(ctx, client, o.base, r, id, items, w, fmt.Sprintf("load-%d-%d", w, seq.Add(1)))
				if cutByRunEnd(ctx, res) {
					return // not counted: the run ended, not the server
				}
				record(res, a)
				if res.status == 0 && draining.Load() {
					return // the server is draining: it refuses new connections
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if o.sigtermAfter == 0 {
		rss = append(rss, "end "+rssOf(o.pid))
	}
	close(stopSampling)
	sampler.Wait()

	if o.acked != "" {
		var b bytes.Buffer
		for id, v := range acks {
			if !deleted[id] {
				fmt.Fprintf(&b, "%s %d\n", id, v)
			}
		}
		if err := os.WriteFile(o.acked, b.Bytes(), 0o600); err != nil {
			return err
		}
	}
	var served map[string]bool
	if o.sigtermAfter > 0 && o.serverLog != "" {
		var err error
		if served, err = servedIDs(o.pid, o.serverLog); err != nil {
			return err
		}
	}
	return report(out, o, results, elapsed, rss, sigtermAt, len(acks)-len(deleted), served)
}

// servedIDs waits (a bounded time) for the server to exit, so its log is
// complete, and returns the request ids of its access lines: the requests
// it read.
func servedIDs(pid int, log string) (map[string]bool, error) {
	for deadline := time.Now().Add(time.Minute); syscall.Kill(pid, 0) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("server %d still runs a minute after SIGTERM", pid)
		}
	}
	f, err := os.Open(log) //nolint:gosec // the path is the -server-log flag its operator gave
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ids := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "request" {
			ids[line.RequestID] = true
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s holds no access lines: run the server with TYPEDAPI_LOG_LEVEL=info", log)
	}
	return ids, sc.Err()
}

// cutByRunEnd: the run's own deadline cut res off, before its answer came or
// while its body was read (the status is known then, the body is not). A
// 5xx whose body was cut still counts: the server did fail it. (A server
// that answers nothing at all is caught by report: no answers, no pass.)
func cutByRunEnd(ctx context.Context, res result) bool {
	return ctx.Err() != nil && errors.Is(res.err, context.DeadlineExceeded) && res.status < 500
}

const itemBody = `{"name":"Load %d-%d","price":%d,"currency":"EUR","tags":["load","w%d"]}`

// steadyItems is the data set size at which creates are balanced by
// deletes, so the server's memory reflects the load, not a growing store.
const steadyItems = 2000

// oneRequest sends one request of the mix: 50% get, 20% list, 20% create,
// 10% patch; once steadyItems exist, half the creates become deletes.
// Gets, patches and deletes fall back to a create until items exist.
func oneRequest(ctx context.Context, c *http.Client, base string, r *rand.Rand, id string, items, worker int, requestID string) (result, *ack) {
	n := r.IntN(100)
	var op, method, target, ctype, body string
	switch {
	case id != "" && n < 50:
		op, method, target = "get", "GET", "/v1/items/"+id
	case n < 70:
		op, method, target = "list", "GET", fmt.Sprintf("/v1/items?limit=20&tag=w%d", worker)
	case id != "" && items >= steadyItems && n < 80:
		op, method, target = "delete", "DELETE", "/v1/items/"+id
	case id != "" && n >= 90:
		op, method, target, ctype = "patch", "PATCH", "/v1/items/"+id, "application/merge-patch+json"
		body = fmt.Sprintf(`{"price":%d}`, r.IntN(100000))
	default:
		op, method, target, ctype = "create", "POST", "/v1/items", "application/json"
		body = fmt.Sprintf(itemBody, worker, r.Uint32(), r.IntN(100000), worker)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+target, strings.NewReader(body))
	if err != nil {
		return result{id: requestID, op: op, err: err}, nil
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("X-Request-Id", requestID)
	t0 := time.Now()
	resp, err := c.Do(req)
	res := result{id: requestID, op: op, sentAt: t0}
	if err != nil {
		res.err, res.latency = err, time.Since(t0)
		return res, nil
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	res.status, res.latency, res.err = resp.StatusCode, time.Since(t0), err
	if err != nil {
		return res, nil // the body was cut off: no write can be acknowledged
	}
	if op == "delete" && resp.StatusCode == http.StatusNoContent {
		return res, &ack{id: id, version: -1}
	}
	if (op == "create" && resp.StatusCode == 201) || (op == "patch" && resp.StatusCode == 200) {
		var it struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
		}
		if json.Unmarshal(b, &it) == nil && it.ID != "" {
			return res, &ack{it.ID, it.Version}
		}
		res.err = fmt.Errorf("%s answered %d with %q", op, resp.StatusCode, b)
	}
	return res, nil
}

// report sums the results up. served, when known, holds the ids of the
// requests the server read (its access lines).
func report(out io.Writer, o options, results []result, elapsed time.Duration, rss []string, sigtermAt time.Time, acked int, served map[string]bool) error {
	var lat []time.Duration
	statuses := map[int]int{}
	ops := map[string]int{}
	var errs, fivexx, refused, answeredInDrain, inFlight int
	var firstErr error
	for _, r := range results {
		ops[r.op]++
		draining := !sigtermAt.IsZero() && !r.sentAt.Before(sigtermAt)
		if r.status == 0 {
			// Sent after SIGTERM and never answered, or refused a connection
			// after SIGTERM (a request begun just before it, or a GET the
			// client retried on a new connection when the drain closed its
			// idle one): either way the server never accepted it.
			failedInDrain := !sigtermAt.IsZero() && !r.sentAt.Add(r.latency).Before(sigtermAt)
			refusedInDrain := failedInDrain && errors.Is(r.err, syscall.ECONNREFUSED)
			// Or sent on a kept-alive connection just as the drain closed
			// it as idle: the server never read it (no access line), which
			// HTTP/1.1 allows (RFC 9112, 9.3.1; clients retry what they may).
			unreadInDrain := failedInDrain && served != nil && !served[r.id]
			if draining || refusedInDrain || unreadInDrain {
				refused++
				continue
			}
			errs++
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		if !sigtermAt.IsZero() && r.sentAt.Before(sigtermAt) && r.sentAt.Add(r.latency).After(sigtermAt) {
			inFlight++
		}
		if draining {
			answeredInDrain++
		}
		statuses[r.status]++
		lat = append(lat, r.latency)
		if r.status >= 500 {
			fivexx++
		}
		if r.err != nil {
			errs++
			if firstErr == nil {
				firstErr = r.err
			}
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	fmt.Fprintf(out, "workers %d, ran %s, answered %d requests (%.0f/s)\n", o.workers, elapsed.Round(time.Millisecond), len(lat), float64(len(lat))/elapsed.Seconds())
	fmt.Fprintf(out, "mix: %v\nstatuses: %v\n", ops, statuses)
	fmt.Fprintf(out, "latency p50 %s, p99 %s, max %s\n", pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	if o.pid != 0 {
		fmt.Fprintf(out, "server RSS: %s; peak %s\n", strings.Join(rss, ", "), procStatus(o.pid, "VmHWM"))
	}
	if !sigtermAt.IsZero() {
		fmt.Fprintf(out, "SIGTERM after %s: %d requests in flight at SIGTERM all answered normally, %d more answered on open connections while draining, %d never accepted (refused, or unread when the drain closed their idle connection)\n",
			o.sigtermAfter, inFlight, answeredInDrain, refused)
	}
	fmt.Fprintf(out, "acknowledged writes: %d items; errors %d, 5xx %d\n", acked, errs, fivexx)
	if len(lat) == 0 {
		return errors.New("the server answered no request")
	}
	if errs > 0 || fivexx > 0 {
		return fmt.Errorf("%d errors and %d 5xx answers (first error: %w)", errs, fivexx, firstErr)
	}
	return nil
}

// rssOf reads a process's resident set size from /proc.
func rssOf(pid int) string { return procStatus(pid, "VmRSS") }

func procStatus(pid int, key string) string {
	if pid == 0 {
		return "?"
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "?"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), key+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return "?"
}

// verify reads "id version" lines and checks each item is in the store at
// that version or later.
func verify(o options, out io.Writer) error {
	b, err := os.ReadFile(o.verify)
	if err != nil {
		return err
	}
	c := &http.Client{Timeout: 10 * time.Second}
	var checked, missing int
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		id, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		want, _ := strconv.ParseInt(v, 10, 64)
		resp, err := c.Get(o.base + "/v1/items/" + id)
		if err != nil {
			return err
		}
		var it struct{ Version int64 }
		_ = json.NewDecoder(resp.Body).Decode(&it)
		_ = resp.Body.Close()
		checked++
		if resp.StatusCode != 200 || it.Version < want {
			missing++
			fmt.Fprintf(out, "lost: %s (acknowledged at version %d; now %d, version %d)\n", id, want, resp.StatusCode, it.Version)
		}
	}
	fmt.Fprintf(out, "verified %d acknowledged writes: %d lost\n", checked, missing)
	if missing > 0 || checked == 0 {
		return fmt.Errorf("%d of %d acknowledged writes lost", missing, checked)
	}
	return nil
}
