package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/typedapi/typedapi/internal/itemid"
	"github.com/typedapi/typedapi/models"
	"github.com/typedapi/typedapi/operations"
	"github.com/typedapi/typedapi/store/storetest"
)

var (
	_ operations.ItemStore  = (*Store)(nil)
	_ operations.OrderStore = (*Store)(nil)
)

// endpoint is the DynamoDB Local that scripts/test starts. Without it the
// tests skip, except in CI, where a skip would hide that they never ran.
func endpoint(t *testing.T) string {
	t.Helper()
	ep, ok := storetest.DynamoDBLocal(t)
	if !ok {
		t.Skip("no DynamoDB Local")
	}
	return ep
}

var tableSeq atomic.Int64

// newTableStore returns a store on a fresh table of its own at ep, deleted
// when the test ends.
func newTableStore(t *testing.T, ep string, o Options) *Store {
	t.Helper()
	o.Endpoint = ep
	o.Table = fmt.Sprintf("test-%d-%d-%s", os.Getpid(), tableSeq.Add(1), itemid.New(time.Now())[20:])
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.CreateTable(ctx); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &s.table}); err != nil {
			t.Logf("delete table %s: %v", s.table, err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	ep := endpoint(t)
	// One attempt may wait a minute: DynamoDB Local on two cores queues the
	// 1000 concurrent creates for many seconds, which real DynamoDB does not.
	// So may one connect: the store opens up to 64 connections at once to
	// an emulator that accepts them slowly (a SYN the kernel drops from a
	// full accept queue is resent after 1 s, then 3 s), and under -race on a
	// busy machine one connect passed the 2 s production dial bound (a CI
	// run, 2026-12-06: "dial tcp 127.0.0.1:…: i/o timeout").
	// Every resource the store holds is run (storetest.RunAll).
	storetest.RunAll(t, func(t *testing.T) any {
		return newTableStore(t, ep, Options{AttemptTimeout: time.Minute, DialTimeout: time.Minute})
	})
}

func TestCreateTableIsIdempotent(t *testing.T) {
	s := newTableStore(t, endpoint(t), Options{})
	ctx := context.Background()
	if err := s.CreateTable(ctx); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	ttl, err := s.client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &s.table})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.AttributeName == nil || *d.AttributeName != "expires_at" {
		t.Fatalf("TTL = %+v, want it on expires_at", ttl.TimeToLiveDescription)
	}
}

func TestPingMissingTable(t *testing.T) {
	s, err := New(context.Background(), Options{Table: "no-such-table", Endpoint: endpoint(t)})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Ping(context.Background())
	if err == nil {
		t.Fatal("Ping of a missing table succeeded")
	}
	if errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("a missing table is a configuration error, not a transient one: %v", err)
	}
}

// TestDeadline: a call whose context has expired reports the deadline, not
// an outage or a generic failure (the HTTP layer answers 504).
func TestDeadline(t *testing.T) {
	s := newTableStore(t, endpoint(t), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, err := s.Get(ctx, itemid.New(time.Now()))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get with an expired context: %v, want context.DeadlineExceeded", err)
	}
}

func TestNewNeedsNoNetwork(t *testing.T) {
	// A closed port: New must still succeed, as nothing is dialled.
	if _, err := New(context.Background(), Options{Table: "t", Endpoint: "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), Options{}); err == nil {
		t.Fatal("New without a table succeeded")
	}
}

func TestCredentialsInEnv(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if credentialsInEnv(getenv) {
		t.Fatal("empty environment has credentials")
	}
	env["AWS_PROFILE"] = "dev"
	if !credentialsInEnv(getenv) {
		t.Fatal("AWS_PROFILE not seen")
	}
}

func TestPartition(t *testing.T) {
	cases := []struct {
		q          models.ListQuery
		pk, filter string
	}{
		{models.ListQuery{}, "ITEM", ""},
		{models.ListQuery{Tag: "a"}, "TAG#a", ""},
		{models.ListQuery{Tag: "a", NamePrefix: "Xy"}, "TAG#a", "xy"},
		{models.ListQuery{NamePrefix: "E"}, "NAME#e", ""},
		{models.ListQuery{NamePrefix: "ÄP"}, "NAME#äp", ""},
		{models.ListQuery{NamePrefix: "ÄPF"}, "NAME#äp", "äpf"},
	}
	for _, c := range cases {
		pk, filter := partition(c.q)
		if pk != c.pk || filter != c.filter {
			t.Errorf("partition(%+v) = %q, %q; want %q, %q", c.q, pk, filter, c.pk, c.filter)
		}
	}
}

func TestRowKeys(t *testing.T) {
	id := "01JDQ8Z6M3N4P5Q6R7S8T9V0WX"
	cases := []struct {
		name string
		tags []models.Tag
		want []string
	}{
		{"Äpfel", []models.Tag{"a", "b"}, []string{"ITEM", "TAG#a", "TAG#b", "NAME#ä", "NAME#äp"}},
		{"X", nil, []string{"ITEM", "NAME#x"}},
		{"ab", []models.Tag{"t", "t"}, []string{"ITEM", "TAG#t", "NAME#a", "NAME#ab"}},
	}
	for _, c := range cases {
		var got []string
		for _, k := range rowKeys(models.Item{ID: id, ItemFields: models.ItemFields{Name: c.name, Tags: c.tags}}) {
			if k.sk != id {
				t.Errorf("%s: sk %q, want the id", c.name, k.sk)
			}
			got = append(got, k.pk)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("rowKeys(%q, %v) = %v, want %v", c.name, c.tags, got, c.want)
		}
	}
}

// TestUnavailable: with DynamoDB unreachable every call fails promptly with
// models.ErrUnavailable (a 503), and once it is back calls succeed again.
// First a port nobody listens on; then a dedicated server that is stopped
// and restarted on the same port mid-run.
func TestUnavailable(t *testing.T) {
	endpoint(t) // the same skip rule: a dedicated server needs the same install
	deadline := 10 * time.Second
	fast := Options{MaxAttempts: 2, MaxBackoff: 100 * time.Millisecond, AttemptTimeout: 2 * time.Second}

	calls := func(s *Store) map[string]func(context.Context) error {
		return map[string]func(context.Context) error{
			"Ping": s.Ping,
			"Get":  func(ctx context.Context) error { _, err := s.Get(ctx, itemid.New(time.Now())); return err },
			"List": func(ctx context.Context) error { _, err := s.List(ctx, models.ListQuery{Limit: 5}); return err },
			"Create": func(ctx context.Context) error {
				_, _, err := s.Create(ctx, testItem(), &models.Idempotency{Key: itemid.New(time.Now()), RequestHash: "h", ExpiresAt: time.Now().Add(time.Hour)})
				return err
			},
		}
	}
	expectUnavailable := func(t *testing.T, s *Store) {
		t.Helper()
		for name, call := range calls(s) {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			began := time.Now()
			err := call(ctx)
			took := time.Since(began)
			cancel()
			if !errors.Is(err, models.ErrUnavailable) {
				t.Errorf("%s while DynamoDB is down: %v, want ErrUnavailable", name, err)
			}
			if took >= deadline {
				t.Errorf("%s took %v, not within the %v deadline", name, took, deadline)
			}
			t.Logf("%s failed in %v: %v", name, took.Round(time.Millisecond), err)
		}
	}

	t.Run("closed port", func(t *testing.T) {
		s, err := New(context.Background(), Options{Table: "t", Endpoint: "http://127.0.0.1:" + strconv.Itoa(closedPort(t)),
			MaxAttempts: fast.MaxAttempts, MaxBackoff: fast.MaxBackoff, AttemptTimeout: fast.AttemptTimeout})
		if err != nil {
			t.Fatal(err)
		}
		expectUnavailable(t, s)
	})

	t.Run("server stops and returns", func(t *testing.T) {
		port := closedPort(t)
		srv := startServer(t, port)
		s := newTableStore(t, "http://127.0.0.1:"+strconv.Itoa(port), fast)
		if err := s.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}

		// A frozen server accepts connections and never answers: the call
		// ends at the caller's deadline, reported as such (a 504), and does
		// not hang past it.
		if err := syscall.Kill(srv.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		short := time.Second
		ctx, cancel := context.WithTimeout(context.Background(), short)
		began := time.Now()
		_, err := s.Get(ctx, itemid.New(time.Now()))
		took := time.Since(began)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, models.ErrUnavailable) {
			t.Errorf("Get from a frozen server: %v, want context.DeadlineExceeded", err)
		}
		if took > short+500*time.Millisecond {
			t.Errorf("Get from a frozen server took %v with a %v deadline", took, short)
		}
		// With time to spare, the attempts time out first (2 × 2 s): that
		// is DynamoDB not answering, an outage, not the caller's deadline.
		ctx, cancel = context.WithTimeout(context.Background(), deadline)
		began = time.Now()
		_, err = s.Get(ctx, itemid.New(time.Now()))
		took = time.Since(began)
		cancel()
		if !errors.Is(err, models.ErrUnavailable) {
			t.Errorf("Get from a frozen server, attempts timing out: %v, want ErrUnavailable", err)
		}
		if took >= deadline {
			t.Errorf("Get from a frozen server took %v, not within the %v deadline", took, deadline)
		}
		t.Logf("frozen server: Get failed in %v: %v", took.Round(time.Millisecond), err)
		if err := syscall.Kill(srv.cmd.Process.Pid, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		if err := s.Ping(context.Background()); err != nil {
			t.Fatalf("Ping after the server thawed: %v", err)
		}

		srv.stop(t)
		expectUnavailable(t, s)

		// The server is in-memory: it comes back empty, so the table is
		// made again, as a restarted DynamoDB would still have it.
		startServer(t, port)
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.CreateTable(ctx); err != nil {
			t.Fatalf("CreateTable after restart: %v", err)
		}
		for name, call := range calls(s) {
			err := call(ctx)
			if name == "Get" && errors.Is(err, models.ErrNotFound) {
				err = nil
			}
			if err != nil {
				t.Errorf("%s after the server returned: %v", name, err)
			}
		}
	})
}

func testItem() models.Item {
	now := time.Now().UTC()
	return models.Item{ID: itemid.New(time.Now()), ItemFields: models.ItemFields{Name: "n", Currency: "EUR", Tags: []models.Tag{}},
		CreatedAt: now, UpdatedAt: now, Version: 1}
}

// closedPort is a loopback port with nothing listening on it (just now).
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

type server struct{ cmd *exec.Cmd }

// startServer runs a dedicated DynamoDB Local on port (scripts/dynamodb-local
// exec) and waits until it answers; it is killed when the test ends.
func startServer(t *testing.T, port int) *server {
	t.Helper()
	cmd := exec.Command("../../scripts/dynamodb-local", "exec", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &server{cmd: cmd}
	t.Cleanup(func() { srv.stop(t) })
	for range 240 { // up to 60 s for the JVM on a busy machine
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 250*time.Millisecond)
		if err == nil {
			conn.Close()
			return srv
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("dedicated DynamoDB Local did not listen on %d", port)
	return nil
}

func (s *server) stop(t *testing.T) {
	if s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) // its own process group: the JVM
	_ = s.cmd.Wait()
}

// TestConfigFromEnv: what a Lambda build (-tags lambda.norpc) reads from
// the environment in place of the SDK's default chain.
func TestConfigFromEnv(t *testing.T) {
	retrieve := func(t *testing.T, env map[string]string, o Options) (aws.Config, aws.Credentials, error) {
		t.Helper()
		o.Getenv = func(k string) string { return env[k] }
		cfg, err := configFromEnv(o, sdkSettings{})
		if err != nil {
			return cfg, aws.Credentials{}, err
		}
		creds, err := cfg.Credentials.Retrieve(context.Background())
		return cfg, creds, err
	}

	t.Run("lambda's variables", func(t *testing.T) {
		env := map[string]string{"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2",
			"AWS_ACCESS_KEY_ID": "AKIDLAMBDA", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}
		cfg, creds, err := retrieve(t, env, Options{})
		if err != nil || cfg.Region != "eu-west-1" || creds.AccessKeyID != "AKIDLAMBDA" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
			t.Fatalf("region %q, creds %+v, err %v", cfg.Region, creds, err)
		}
		if cfg, _, _ := retrieve(t, env, Options{Region: "ap-south-1"}); cfg.Region != "ap-south-1" {
			t.Errorf("the configured region lost to the environment: %q", cfg.Region)
		}
		delete(env, "AWS_REGION")
		if cfg, _, _ := retrieve(t, env, Options{}); cfg.Region != "us-west-2" {
			t.Errorf("AWS_DEFAULT_REGION not used: %q", cfg.Region)
		}
	})
	t.Run("key without secret", func(t *testing.T) {
		if _, _, err := retrieve(t, map[string]string{"AWS_ACCESS_KEY_ID": "AKID"}, Options{}); err == nil {
			t.Fatal("accepted a key id without its secret")
		}
	})
	t.Run("explicit endpoint, nothing else", func(t *testing.T) {
		if _, creds, err := retrieve(t, map[string]string{}, Options{Endpoint: "http://127.0.0.1:8000"}); err != nil || creds.AccessKeyID != "local" {
			t.Fatalf("creds %+v, err %v", creds, err)
		}
	})
	t.Run("no credentials at all", func(t *testing.T) {
		_, _, err := retrieve(t, map[string]string{"AWS_PROFILE": "dev", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x"}, Options{})
		if err == nil || !strings.Contains(err.Error(), "lambda.norpc") {
			t.Fatalf("err %v, want one that names the Lambda build", err)
		}
	})
}
