package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/typedapi/typedapi/models"
)

// startGateway runs `api gateway` through run() on a free port.
func startGateway(t *testing.T, args ...string) string {
	t.Helper()
	return startGatewayEnv(t, nil, args...)
}

// startGatewayEnv is startGateway with settings of env (logs at warn).
func startGatewayEnv(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	addrs := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), readyHookKey{}, func(a net.Addr) { addrs <- a }))
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"gateway", "--addr", "127.0.0.1:0"}, args...), func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return map[string]string{"TYPEDAPI_LOG_LEVEL": "warn"}[k]
		}, nil, io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("gateway did not stop")
		}
	})
	select {
	case a := <-addrs:
		return "http://" + a.String()
	case err := <-done:
		t.Fatalf("gateway: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("gateway did not start")
	}
	return ""
}

// TestLocalGateway: the Lambda path tried like a deployed API — behind a
// stage or base path, with /docs, the spec and links all under it.
func TestLocalGateway(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []string
		prefix string
	}{
		{"rest stage", []string{"--source", "rest", "--stage", "prod"}, "/prod"},
		{"http named stage", []string{"--source", "http", "--stage", "beta"}, "/beta"},
		{"http base path", []string{"--source", "http", "--base-path", "/shop", "--proxy-route"}, "/shop"},
		{"alb", []string{"--source", "alb"}, ""},
		{"function url", []string{"--source", "url"}, ""},
		{"vpc lattice v1", []string{"--source", "lattice"}, ""},
		{"vpc lattice v2", []string{"--source", "lattice-v2"}, ""},
		{"function url, streamed", []string{"--source", "url", "--stream"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := startGateway(t, c.args...)
			cl := client{t, base + c.prefix}
			resp, b := cl.expect(201, "POST", "/v1/items", `{"name":"Via gateway","price":5,"currency":"EUR"}`)
			var it models.Item
			_ = json.Unmarshal(b, &it)
			if resp.Header.Get("Location") != c.prefix+"/v1/items/"+it.ID {
				t.Errorf("Location %q", resp.Header.Get("Location"))
			}
			client{t, base}.expect(200, "GET", resp.Header.Get("Location"), "")
			cl.expect(422, "POST", "/v1/items", `{"name":""}`)
			checkDocs(t, cl)
			_, b = cl.expect(200, "GET", "/openapi.json", "")
			var spec struct {
				Servers []struct{ URL string } `json:"servers"`
			}
			_ = json.Unmarshal(b, &spec)
			if len(spec.Servers) != 1 || spec.Servers[0].URL != base+c.prefix {
				t.Errorf("servers %+v, want %s", spec.Servers, base+c.prefix)
			}
			if c.prefix != "" {
				resp, _ := client{t, base}.do("GET", "/v1/items", "")
				if resp.StatusCode != 403 || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
					t.Errorf("path outside the stage: %d", resp.StatusCode)
				}
			}
		})
	}
}
