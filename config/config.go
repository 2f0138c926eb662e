// Package config loads the service's one typed Config with viper:
// defaults < optional config file < TYPEDAPI_* environment (plus PORT, as
// Cloud Run sets it). Every value is checked at load; a bad one is reported
// as one line naming the key, the value given and what is allowed.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// EnvPrefix starts every environment variable the service reads.
const EnvPrefix = "TYPEDAPI"

// Config is everything the service can be told at start-up.
type Config struct {
	Host string // interface to listen on; default 127.0.0.1 (loopback only), 0.0.0.0 for all
	Port int    // TCP port; PORT (Cloud Run) is honoured too

	LogLevel  slog.Level
	LogFormat string // json | text

	BodyLimit         int64 // bytes a request body may have
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownGrace     time.Duration // how long in-flight requests may finish after SIGTERM

	BasePath    string   // mount prefix stripped from every request, e.g. /shop
	CORSOrigins []string // exact origins allowed cross-origin; none by default

	// TrustedProxies are the peers whose forwarding headers (the client's
	// IP and scheme) are believed; none by default.
	TrustedProxies []netip.Prefix
	PublicBaseURL  string // starts every link the API hands out; "" means the request's own Host

	RateLimit float64 // requests per second per client; 0 turns the limit off
	RateBurst int     // requests a client may make at once before RateLimit applies

	Store            string // memory | dynamodb
	DynamoDBTable    string
	DynamoDBRegion   string
	DynamoDBEndpoint string // override for DynamoDB Local

	IdempotencyTTL time.Duration
	CursorSecret   string // signs list cursors; set it so cursors survive restarts and cannot be forged

	ExportConcurrency  int           // exports running at once per process; beyond it, 503
	EventsMaxDuration  time.Duration // longest an event stream stays open before the client reconnects
	EventsHeartbeat    time.Duration // a quiet event stream sends a comment this often
	EventsPollInterval time.Duration // how often an event stream reads the store for changes

	Metrics        bool   // CloudWatch EMF metrics on the access line (docs/OBSERVABILITY.md)
	MetricsService string // the metrics' Service dimension: one value per deployment

	// Authentication (README "Authentication"): who may call the protected
	// operations, and how the service learns it.
	AuthMode        string        // auto | jwt | gateway | off
	AuthIssuer      string        // the token issuer (iss), an https URL (http only on loopback)
	AuthAudience    string        // the audience (aud) tokens must be made for
	AuthJWKSURL     string        // the issuer's JWKS; "" discovers it from the issuer
	AuthJWKSRefresh time.Duration // least time between two fetches of the JWKS
	// AuthScopePrefix is what the issuer writes before each of the API's
	// scopes (Cognito: "<resource server>/"); it is taken off.
	AuthScopePrefix string

	// LambdaHandler is what the function answers on AWS Lambda: "api" (the
	// HTTP events of every front door) or "authorizer" (a REST API's TOKEN
	// authorizer requests, verified as auth_mode=jwt would).
	LambdaHandler string
	// Lambda response streaming (README "Which front door"): set by the
	// stack that puts a RESPONSE_STREAM Function URL in front of the
	// function.
	LambdaStream            bool          // answer Function URL events on the streaming path
	LambdaStreamMaxBytes    int64         // most body a streamed response may carry
	LambdaStreamMaxDuration time.Duration // longest a streamed response may run
}

// Addr is the listen address for net/http.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// defaults are the values used when neither the file nor the environment
// sets a key. Their keys are also the complete list of known keys.
var defaults = map[string]any{
	"host":                 "127.0.0.1",
	"port":                 8080,
	"log_level":            "info",
	"log_format":           "json",
	"body_limit":           1 << 20,
	"read_header_timeout":  "5s",
	"read_timeout":         "30s",
	"write_timeout":        "30s",
	"idle_timeout":         "120s",
	"shutdown_grace":       "15s",
	"base_path":            "",
	"cors_origins":         "",
	"trusted_proxies":      "",
	"public_base_url":      "",
	"rate_limit":           0,
	"rate_burst":           20,
	"store":                "memory",
	"dynamodb_table":       "typedapi-items",
	"dynamodb_region":      "",
	"dynamodb_endpoint":    "",
	"idempotency_ttl":      "24h",
	"cursor_secret":        "",
	"export_concurrency":   4,
	"events_max_duration":  "5m",
	"events_heartbeat":     "15s",
	"events_poll_interval": "2s",
	"metrics":              true,
	"metrics_service":      "typedapi",
	"auth_mode":            "auto",
	"auth_issuer":          "",
	"auth_audience":        "",
	"auth_jwks_url":        "",
	"auth_jwks_refresh":    "5m",
	"auth_scope_prefix":    "",
	"lambda_handler":       "api",

	"lambda_stream":              false,
	"lambda_stream_max_bytes":    200 * 1000 * 1000,
	"lambda_stream_max_duration": "15m",
}

// secretKeys are never printed by Redacted.
var secretKeys = []string{"cursor_secret"}

// Error is a configuration value that is not allowed.
type Error struct {
	Key     string // as written in a config file
	Value   string // what was given
	Allowed string // what would have been accepted
}

func (e *Error) Error() string {
	value := e.Value
	if slices.Contains(secretKeys, e.Key) {
		value = "<redacted>"
	}
	env := EnvName(e.Key)
	if e.Key == "port" {
		env += " or PORT" // Cloud Run and most platforms set PORT
	}
	return fmt.Sprintf("config: %s (env %s) = %q is not allowed: %s", e.Key, env, value, e.Allowed)
}

// EnvName is the environment variable that sets key.
func EnvName(key string) string { return EnvPrefix + "_" + strings.ToUpper(key) }

// Load reads the configuration. file may be "" (then TYPEDAPI_CONFIG is
// consulted); getenv is the process environment, passed in for tests.
func Load(file string, getenv func(string) string) (Config, error) {
	v := viper.New()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	if file == "" {
		file = getenv(EnvPrefix + "_CONFIG")
	}
	if file != "" {
		if err := readFile(v, file); err != nil {
			return Config{}, err
		}
	}
	// Environment last: viper's own env lookup reads os.Getenv, so the
	// values are copied from getenv explicitly to keep Load testable.
	for k := range defaults {
		if val, ok := lookup(getenv, EnvName(k)); ok {
			v.Set(k, val)
		}
	}
	if _, set := lookup(getenv, EnvName("port")); !set {
		if val, ok := lookup(getenv, "PORT"); ok {
			v.Set("port", val)
		}
	}
	return parse(v)
}

func lookup(getenv func(string) string, name string) (string, bool) {
	val := getenv(name)
	return val, val != ""
}

// readFile merges a YAML, JSON or TOML file and rejects keys it does not
// know, so a typo does not silently fall back to a default.
func readFile(v *viper.Viper, file string) error {
	ext := strings.TrimPrefix(filepath.Ext(file), ".")
	if !slices.Contains([]string{"yaml", "yml", "json", "toml"}, ext) {
		return &Error{Key: "config", Value: file, Allowed: "a .yaml, .yml, .json or .toml file"}
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("config: cannot read config file: %w", err)
	}
	defer f.Close()
	fileOnly := viper.New()
	fileOnly.SetConfigType(ext)
	if err := fileOnly.ReadConfig(f); err != nil {
		return fmt.Errorf("config: %s is not valid %s: %w", file, ext, err)
	}
	for _, k := range fileOnly.AllKeys() {
		if _, known := defaults[k]; !known {
			return &Error{Key: k, Value: fmt.Sprint(fileOnly.Get(k)), Allowed: "a known key (" + strings.Join(knownKeys(), ", ") + ")"}
		}
		v.Set(k, fileOnly.Get(k))
	}
	return nil
}

func knownKeys() []string {
	keys := make([]string, 0, len(defaults))
	for k := range defaults {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// parse turns the merged raw values into a checked Config; the first bad
// value is the error.
func parse(v *viper.Viper) (Config, error) {
	p := parser{v: v}
	c := Config{
		Host:               p.str("host"),
		Port:               int(p.integer("port", 0, 65535)), // 0: any free port (tests)
		LogLevel:           p.level("log_level"),
		LogFormat:          p.oneOf("log_format", "json", "text"),
		BodyLimit:          p.integer("body_limit", 1024, 64<<20),
		ReadHeaderTimeout:  p.duration("read_header_timeout", time.Second, 5*time.Minute),
		ReadTimeout:        p.duration("read_timeout", time.Second, time.Hour),
		WriteTimeout:       p.duration("write_timeout", time.Second, time.Hour),
		IdleTimeout:        p.duration("idle_timeout", time.Second, time.Hour),
		ShutdownGrace:      p.duration("shutdown_grace", 0, 10*time.Minute),
		BasePath:           p.basePath("base_path"),
		CORSOrigins:        p.origins("cors_origins"),
		TrustedProxies:     p.prefixes("trusted_proxies"),
		PublicBaseURL:      p.baseURL("public_base_url"),
		RateLimit:          p.number("rate_limit", 0, 1e6),
		RateBurst:          int(p.integer("rate_burst", 1, 1e6)),
		Store:              p.oneOf("store", "memory", "dynamodb"),
		DynamoDBTable:      p.tableName("dynamodb_table"),
		DynamoDBRegion:     p.str("dynamodb_region"),
		DynamoDBEndpoint:   p.endpoint("dynamodb_endpoint"),
		IdempotencyTTL:     p.duration("idempotency_ttl", time.Minute, 7*24*time.Hour),
		CursorSecret:       p.str("cursor_secret"),
		ExportConcurrency:  int(p.integer("export_concurrency", 1, 1000)),
		EventsMaxDuration:  p.duration("events_max_duration", time.Second, time.Hour),
		EventsHeartbeat:    p.duration("events_heartbeat", time.Second, 10*time.Minute),
		EventsPollInterval: p.duration("events_poll_interval", 100*time.Millisecond, time.Minute),
		Metrics:            p.boolean("metrics"),
		MetricsService:     p.tableName("metrics_service"),
		AuthMode:           p.oneOf("auth_mode", "auto", "jwt", "gateway", "off"),
		AuthIssuer:         p.issuerURL("auth_issuer"),
		AuthAudience:       p.str("auth_audience"),
		AuthJWKSURL:        p.issuerURL("auth_jwks_url"),
		AuthJWKSRefresh:    p.duration("auth_jwks_refresh", time.Second, 24*time.Hour),
		AuthScopePrefix:    p.scopePrefix("auth_scope_prefix"),
		LambdaHandler:      p.oneOf("lambda_handler", "api", "authorizer"),

		LambdaStream:            p.boolean("lambda_stream"),
		LambdaStreamMaxBytes:    p.integer("lambda_stream_max_bytes", 1024, 200*1000*1000),
		LambdaStreamMaxDuration: p.duration("lambda_stream_max_duration", time.Second, 15*time.Minute),
	}
	p.authComplete(c)
	return c, p.err
}

// issuerURL reads a URL tokens or keys come from: https, or http only on a
// loopback host (a local issuer), since keys fetched over plain HTTP from
// elsewhere could be anyone's.
func (p *parser) issuerURL(key string) string {
	s := p.raw(key)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	ok := err == nil && u.Host != "" && u.User == nil && u.RawQuery == "" && u.Fragment == "" &&
		(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname()))
	if !ok {
		p.fail(key, s, "an https URL such as https://issuer.example.com/ (http only for a loopback host such as 127.0.0.1)")
	}
	return s
}

// authComplete checks the auth keys together: verifying tokens needs the
// issuer and the audience (a token the issuer made for another API must
// not pass), and the JWKS URL is the issuer's.
func (p *parser) authComplete(c Config) {
	switch {
	case c.AuthMode == "jwt" && c.AuthIssuer == "":
		p.fail("auth_issuer", "", "the token issuer's https URL, required when auth_mode is jwt")
	case c.LambdaHandler == "authorizer" && c.AuthIssuer == "":
		p.fail("auth_issuer", "", "the token issuer's https URL, required when lambda_handler is authorizer")
	case c.AuthIssuer != "" && c.AuthAudience == "":
		p.fail("auth_audience", "", "the audience tokens must be made for (their aud), required when auth_issuer is set")
	case c.AuthJWKSURL != "" && c.AuthIssuer == "":
		p.fail("auth_issuer", "", "the token issuer's https URL, required when auth_jwks_url is set")
	}
}

// isLoopback: "localhost" or a loopback IP literal.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ListensOnLoopbackOnly reports whether Host binds a loopback address only,
// so that nothing beyond this machine can connect (README "Authentication").
func (c Config) ListensOnLoopbackOnly() bool { return isLoopback(c.Host) }

// parser reads keys off v and keeps the first error; later reads are no-ops.
type parser struct {
	v   *viper.Viper
	err error
}

func (p *parser) raw(key string) string {
	switch val := p.v.Get(key).(type) {
	case []any:
		parts := make([]string, len(val))
		for i, e := range val {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	default:
		return strings.TrimSpace(fmt.Sprint(val))
	}
}

func (p *parser) fail(key, value, allowed string) {
	if p.err == nil {
		p.err = &Error{Key: key, Value: value, Allowed: allowed}
	}
}

func (p *parser) str(key string) string { return p.raw(key) }

// scopePrefix is a scope's leading part, such as "typedapi/": printable
// ASCII with no space or quote (RFC 6749's scope-token), at most 128 bytes.
func (p *parser) scopePrefix(key string) string {
	s := p.raw(key)
	for _, r := range s {
		if r <= ' ' || r > '~' || r == '"' || r == '\\' {
			p.fail(key, s, "a scope prefix such as typedapi/: printable ASCII, no spaces or quotes")
			return s
		}
	}
	if len(s) > 128 {
		p.fail(key, s, "a scope prefix of at most 128 bytes")
	}
	return s
}

func (p *parser) integer(key string, lo, hi int64) int64 {
	s := p.raw(key)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		p.fail(key, s, fmt.Sprintf("a whole number from %d to %d", lo, hi))
	}
	return n
}

func (p *parser) number(key string, lo, hi float64) float64 {
	s := p.raw(key)
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || !(n >= lo && n <= hi) {
		p.fail(key, s, fmt.Sprintf("a number from %g to %g", lo, hi))
	}
	return n
}

func (p *parser) duration(key string, lo, hi time.Duration) time.Duration {
	s := p.raw(key)
	d, err := time.ParseDuration(s)
	if err != nil || d < lo || d > hi {
		p.fail(key, s, fmt.Sprintf("a duration such as 30s or 2m, from %s to %s", lo, hi))
	}
	return d
}

func (p *parser) oneOf(key string, allowed ...string) string {
	s := strings.ToLower(p.raw(key))
	if !slices.Contains(allowed, s) {
		p.fail(key, p.raw(key), "one of "+strings.Join(allowed, ", "))
	}
	return s
}

func (p *parser) level(key string) slog.Level {
	s := p.oneOf(key, "debug", "info", "warn", "error")
	var l slog.Level
	_ = l.UnmarshalText([]byte(s))
	return l
}

func (p *parser) basePath(key string) string {
	s := p.raw(key)
	if s == "" || s == "/" {
		return ""
	}
	clean := "/" + strings.Trim(s, "/")
	if !strings.HasPrefix(s, "/") || strings.ContainsAny(s, "?#%{} ") || strings.Contains(clean, "//") || strings.Contains(clean, "/.") {
		p.fail(key, s, "a path such as /shop or /api/v2 (leading slash; no query, braces, dot segments or spaces)")
	}
	return clean
}

func (p *parser) origins(key string) []string {
	s := p.raw(key)
	if s == "" {
		return nil
	}
	var out []string
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimSpace(o)
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			p.fail(key, o, "a comma-separated list of exact origins such as https://app.example.com (scheme and host, no path, no wildcard)")
			return nil
		}
		out = append(out, o)
	}
	return out
}

// prefixes reads a comma-separated list of CIDR ranges; a bare address is
// a range of one.
func (p *parser) prefixes(key string) []netip.Prefix {
	s := p.raw(key)
	if s == "" {
		return nil
	}
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		pre, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil || a.Zone() != "" {
				p.fail(key, part, "a comma-separated list of CIDR ranges such as 10.0.0.0/16 or 2001:db8::/48 (or single addresses)")
				return nil
			}
			pre = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if pre.Addr().Is4In6() {
			pre = netip.PrefixFrom(pre.Addr().Unmap(), pre.Bits()-96)
		}
		out = append(out, pre.Masked())
	}
	return out
}

// baseURL reads an absolute http(s) URL with no query, fragment or user
// info; a trailing slash is dropped.
func (p *parser) baseURL(key string) string {
	s := p.raw(key)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#") ||
		strings.ContainsAny(u.Path, " %{}") || strings.Contains(u.Path, "//") || strings.Contains(u.Path, "/.") {
		p.fail(key, s, "an absolute http(s) URL such as https://api.example.com or https://example.com/api (no query, fragment or user info)")
		return ""
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/")
}

func (p *parser) endpoint(key string) string {
	s := p.raw(key)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail(key, s, "an http(s) URL such as http://127.0.0.1:8000, or empty for the AWS default")
	}
	return s
}

func (p *parser) tableName(key string) string {
	s := p.raw(key)
	ok := len(s) >= 3 && len(s) <= 255
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			ok = false
		}
	}
	if !ok {
		p.fail(key, s, "3 to 255 characters of a-z, A-Z, 0-9, _, - and .")
	}
	return s
}

func (p *parser) boolean(key string) bool {
	s := p.raw(key)
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.fail(key, s, "true or false")
	}
	return b
}

// Redacted lists every setting for a start-up log line, with secrets hidden.
func (c Config) Redacted() []any {
	secret := ""
	if c.CursorSecret != "" {
		secret = "<redacted>"
	}
	return []any{
		"host", c.Host, "port", c.Port, "log_level", c.LogLevel.String(), "log_format", c.LogFormat,
		"body_limit", c.BodyLimit, "read_header_timeout", c.ReadHeaderTimeout.String(),
		"read_timeout", c.ReadTimeout.String(), "write_timeout", c.WriteTimeout.String(),
		"idle_timeout", c.IdleTimeout.String(), "shutdown_grace", c.ShutdownGrace.String(),
		"base_path", c.BasePath, "cors_origins", c.CORSOrigins, "trusted_proxies", c.TrustedProxies,
		"public_base_url", c.PublicBaseURL, "rate_limit", c.RateLimit, "rate_burst", c.RateBurst, "store", c.Store,
		"dynamodb_table", c.DynamoDBTable, "dynamodb_region", c.DynamoDBRegion,
		"dynamodb_endpoint", c.DynamoDBEndpoint, "idempotency_ttl", c.IdempotencyTTL.String(),
		"cursor_secret", secret, "export_concurrency", c.ExportConcurrency, "events_max_duration", c.EventsMaxDuration.String(),
		"events_heartbeat", c.EventsHeartbeat.String(), "events_poll_interval", c.EventsPollInterval.String(),
		"metrics", c.Metrics, "metrics_service", c.MetricsService,
		"auth_mode", c.AuthMode, "auth_issuer", c.AuthIssuer, "auth_audience", c.AuthAudience,
		"auth_jwks_url", c.AuthJWKSURL, "auth_jwks_refresh", c.AuthJWKSRefresh.String(),
		"auth_scope_prefix", c.AuthScopePrefix, "lambda_handler", c.LambdaHandler,
		"lambda_stream", c.LambdaStream, "lambda_stream_max_bytes", c.LambdaStreamMaxBytes,
		"lambda_stream_max_duration", c.LambdaStreamMaxDuration.String(),
	}
}

// IsConfigError reports whether err is a bad configuration value.
func IsConfigError(err error) bool {
	var ce *Error
	return errors.As(err, &ce)
}
