package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/store/storetest"
)

// TestConcurrentPatches: 50 clients each read the item and PATCH it with
// If-Match, adding 1 to its price. Every 200 is one version; every lost
// race is a 412; the final price counts every winning write, so none was
// lost.
func TestConcurrentPatches(t *testing.T) {
	for name, env := range storeEnvs(t) {
		t.Run(name, func(t *testing.T) {
			base, _ := startServer(t, env)
			c := client{t, base}
			_, b := c.expect(201, "POST", "/v1/items", `{"name":"Counter","price":0,"currency":"EUR"}`)
			var item models.Item
			_ = json.Unmarshal(b, &item)

			const writers, tries = 50, 4
			// unknown: PATCHes answered 503 (an overloaded store's answer; the
			// write may or may not have happened). retried: GETs sent again
			// after a 503 + Retry-After.
			var wins, conflicts, unknown, retried atomic.Int64
			versions := sync.Map{}
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					for range tries {
						resp, b := c.doRetrying(&retried, "GET", "/v1/items/"+item.ID, "")
						if resp.StatusCode != 200 {
							t.Errorf("GET answered %d: %s", resp.StatusCode, b)
							continue
						}
						var cur models.Item
						_ = json.Unmarshal(b, &cur)
						patch := fmt.Sprintf(`{"price":%d}`, cur.Price+1)
						resp, b = c.do("PATCH", "/v1/items/"+item.ID, patch, "If-Match", resp.Header.Get("ETag"), "Content-Type", "application/merge-patch+json")
						switch resp.StatusCode {
						case 200:
							var got models.Item
							_ = json.Unmarshal(b, &got)
							if _, dup := versions.LoadOrStore(got.Version, true); dup {
								t.Errorf("version %d won twice", got.Version)
							}
							wins.Add(1)
						case 412:
							conflicts.Add(1)
						case 503:
							unknown.Add(1)
						default:
							t.Errorf("PATCH answered %d: %s", resp.StatusCode, b)
						}
					}
				})
			}
			wg.Wait()
			resp, b := c.doRetrying(&retried, "GET", "/v1/items/"+item.ID, "")
			if resp.StatusCode != 200 {
				t.Fatalf("final GET: %d %s", resp.StatusCode, b)
			}
			var final models.Item
			_ = json.Unmarshal(b, &final)
			t.Logf("%d wins, %d conflicts, %d unknown (503), %d GETs retried", wins.Load(), conflicts.Load(), unknown.Load(), retried.Load())
			// Every write that happened added 1 to the price it read at the
			// version it named, so price = version - 1 unless one was lost; the
			// writes that happened are the wins and some of the unknown.
			w, u := wins.Load(), unknown.Load()
			if w == 0 || final.Price != final.Version-1 || final.Version-1 < w || final.Version-1 > w+u {
				t.Errorf("final price %d version %d after %d winning writes (%d unknown): an update was lost", final.Price, final.Version, w, u)
			}
			if w+conflicts.Load()+u != writers*tries {
				t.Errorf("answers missing: %d + %d + %d", w, conflicts.Load(), u)
			}
			if name == "memory" && (u != 0 || retried.Load() != 0) {
				t.Errorf("the memory store answered 503: %d PATCHes, %d GETs", u, retried.Load())
			}
		})
	}
}

// TestConcurrentCreates: 1000 creates from 50 clients at once give 1000
// distinct items, and paging through the list returns each exactly once.
func TestConcurrentCreates(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 requests")
	}
	for name, env := range storeEnvs(t) {
		t.Run(name, func(t *testing.T) {
			base, _ := startServer(t, env)
			c := client{t, base}
			const total, clients = 1000, 50
			var retried atomic.Int64 // requests answered 503 + Retry-After, then retried
			defer func() {
				t.Logf("%d requests retried after a 503", retried.Load())
				if name == "memory" && retried.Load() != 0 {
					t.Error("the memory store answered 503")
				}
			}()
			ids := make(chan string, total)
			var wg sync.WaitGroup
			for w := range clients {
				wg.Go(func() {
					for i := w; i < total; i += clients {
						// With an Idempotency-Key a create may be retried after a 503:
						// one that went through answers its first result again.
						resp, b := c.doRetrying(&retried, "POST", "/v1/items", fmt.Sprintf(`{"name":"Item %04d","price":%d,"currency":"EUR","tags":["bulk"]}`, i, i),
							"Idempotency-Key", fmt.Sprintf("bulk-%d", i))
						if resp.StatusCode != 201 {
							t.Errorf("create %d: %d %s", i, resp.StatusCode, b)
							continue
						}
						var it models.Item
						_ = json.Unmarshal(b, &it)
						ids <- it.ID
					}
				})
			}
			wg.Wait()
			close(ids)
			created := map[string]bool{}
			for id := range ids {
				if created[id] {
					t.Errorf("id %s handed out twice", id)
				}
				created[id] = true
			}
			if len(created) != total {
				t.Fatalf("%d distinct items, want %d", len(created), total)
			}

			seen := map[string]int{}
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > total/100+2 {
					t.Fatal("listing does not end")
				}
				resp, b := c.doRetrying(&retried, "GET", "/v1/items?limit=100&tag=bulk&cursor="+cursor, "")
				if resp.StatusCode != 200 {
					t.Fatalf("list: %d %s", resp.StatusCode, b)
				}
				var page struct {
					Items      []models.Item `json:"items"`
					NextCursor string        `json:"next_cursor"`
				}
				_ = json.Unmarshal(b, &page)
				for _, it := range page.Items {
					seen[it.ID]++
				}
				if page.NextCursor == "" {
					break
				}
				if len(page.Items) != 100 {
					t.Errorf("short page (%d) with a next cursor", len(page.Items))
				}
				cursor = page.NextCursor
			}
			for id := range created {
				if seen[id] != 1 {
					t.Errorf("item %s listed %d times", id, seen[id])
				}
			}
			if len(seen) != total {
				t.Errorf("listing returned %d items, want %d", len(seen), total)
			}
		})
	}
}

// TestDynamoDBOutage: DynamoDB goes away mid-run. The API answers 503
// problems with Retry-After (never 500, never a hang past the deadline),
// /readyz fails, and everything recovers when DynamoDB returns.
func TestDynamoDBOutage(t *testing.T) {
	if _, ok := storetest.DynamoDBLocal(t); !ok {
		t.Skip("no DynamoDB Local")
	}
	port := freePort(t)
	ddb := startDynamoDBLocal(t, port)
	env := map[string]string{
		"TYPEDAPI_STORE":             "dynamodb",
		"TYPEDAPI_DYNAMODB_ENDPOINT": "http://127.0.0.1:" + port,
		"TYPEDAPI_DYNAMODB_TABLE":    "outage",
		"TYPEDAPI_DYNAMODB_REGION":   "us-east-1",
	}
	createTable := func() {
		t.Helper()
		if err := run(context.Background(), []string{"table", "create"}, func(k string) string { return env[k] }, nil, io.Discard, io.Discard); err != nil {
			t.Fatalf("table create: %v", err)
		}
	}
	createTable()
	base, _ := startServer(t, env)
	c := client{t, base}
	c.expect(201, "POST", "/v1/items", `{"name":"Before","price":1,"currency":"EUR"}`)

	ddb.kill()
	for _, call := range []struct{ method, path, body string }{
		{"POST", "/v1/items", `{"name":"During","price":1,"currency":"EUR"}`},
		{"GET", "/v1/items", ""},
		{"GET", "/v1/items/01ARZ3NDEKTSV4RRFFQ69G5FAV", ""},
		{"GET", "/readyz", ""},
	} {
		start := time.Now()
		resp, b := c.do(call.method, call.path, call.body)
		if resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s during outage: %d %s", call.method, call.path, resp.StatusCode, b)
		}
		if call.path != "/readyz" && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s: no Retry-After", call.method, call.path)
		}
		if took := time.Since(start); took > 20*time.Second {
			t.Errorf("%s %s took %v: hangs instead of failing", call.method, call.path, took)
		}
	}

	startDynamoDBLocal(t, port)
	createTable() // DynamoDB Local keeps data in memory: the restarted one is empty
	c.expect(201, "POST", "/v1/items", `{"name":"After","price":1,"currency":"EUR"}`)
	c.expect(200, "GET", "/readyz", "")
}

type dynamoDBLocal struct{ cmd *exec.Cmd }

// startDynamoDBLocal runs a dedicated DynamoDB Local on port through the
// test command's script and waits until it accepts connections.
func startDynamoDBLocal(t *testing.T, port string) *dynamoDBLocal {
	t.Helper()
	cmd := exec.Command("../../scripts/dynamodb-local", "exec", port)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &dynamoDBLocal{cmd: cmd}
	t.Cleanup(d.kill)
	for range 240 { // up to 60 s for the JVM on a busy machine
		if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 250*time.Millisecond); err == nil {
			conn.Close()
			return d
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("DynamoDB Local did not listen on %s", port)
	return nil
}

func (d *dynamoDBLocal) kill() {
	if d.cmd.Process == nil || d.cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL) // the script and its JVM
	_ = d.cmd.Wait()
}

// doRetrying is do for a client that follows the API's contract under
// overload: a 503 carries Retry-After, and the request is sent again after
// that many seconds, up to ten times. Each retry is counted in retried.
// DynamoDB Local on a busy two-core machine can take longer than the
// store's 5 s attempt timeout for a transaction; the store then answers
// 503 + Retry-After, which is right, and a client retries.
func (c client) doRetrying(retried *atomic.Int64, method, path, body string, headers ...string) (*http.Response, []byte) {
	c.t.Helper()
	for attempt := 1; ; attempt++ {
		resp, b := c.do(method, path, body, headers...)
		after, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusServiceUnavailable || err != nil || attempt == 10 {
			return resp, b
		}
		retried.Add(1)
		time.Sleep(time.Duration(min(max(after, 1), 5)) * time.Second)
	}
}
