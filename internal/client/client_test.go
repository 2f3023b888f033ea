package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestNewEndpoint(t *testing.T) {
	tests := []struct {
		endpoint string
		want     string // Endpoint() on success
		errHas   []string
	}{
		{endpoint: "", want: "http://127.0.0.1:8080"},
		{endpoint: "http://127.0.0.1:8080/", want: "http://127.0.0.1:8080"},
		{endpoint: "https://failover.example.org/api/", want: "https://failover.example.org/api"},
		{endpoint: "127.0.0.1:8080", errHas: []string{`did you mean "http://127.0.0.1:8080"`, "FAILOVER_ENDPOINT"}},
		{endpoint: "localhost:8080", errHas: []string{`did you mean "http://localhost:8080"`}},
		{endpoint: "ftp://example.org", errHas: []string{"http:// or https://"}},
		{endpoint: "http://", errHas: []string{"http:// or https://"}},
		{endpoint: "http://admin:hunter2@example.org", errHas: []string{"must not contain credentials", "FAILOVER_TOKEN"}},
		{endpoint: "http://example.org/?x=1", errHas: []string{"remove the query"}},
	}
	for _, tc := range tests {
		t.Run(tc.endpoint, func(t *testing.T) {
			c, err := New(Config{Endpoint: tc.endpoint})
			if tc.errHas == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if got := c.Endpoint(); got != tc.want {
					t.Errorf("Endpoint() = %q, want %q", got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("New(%q) succeeded, want an error", tc.endpoint)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func TestNewCACert(t *testing.T) {
	_, err := New(Config{Endpoint: "https://failover.example.org", CACertPEM: "not a certificate"})
	if err == nil || !strings.Contains(err.Error(), "BEGIN CERTIFICATE") {
		t.Fatalf("err = %v, want a hint about the PEM format", err)
	}
}

func TestConfigStringRedactsToken(t *testing.T) {
	cfg := Config{Endpoint: "http://127.0.0.1:8080", Token: fixtureToken}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, fixtureToken) {
			t.Errorf("formatted Config leaks the token: %s", s)
		}
	}
}

// logSink collects log entries as text.
type logSink struct {
	mu      sync.Mutex
	entries []string
}

func (l *logSink) log(_ context.Context, msg string, fields map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, fmt.Sprintf("%s %v", msg, fields))
}

func (l *logSink) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.entries, "\n")
}

func TestTokenNeverLogged(t *testing.T) {
	f := newFixture(t)
	sink := &logSink{}
	c := f.client(t, func(cfg *Config) { cfg.Logger = sink.log })
	ctx := context.Background()

	// A retried write, a failed read and an error answer: every code path
	// that logs or builds an error message.
	f.push(step{status: 503, retryAfter: "0"})
	if _, err := Create(ctx, c, api.KindHealthCheck, api.HealthCheck{Name: "web", Site: "dc1", Type: "http", Address: "192.0.2.10:80"}); err != nil {
		t.Fatal(err)
	}
	_, err1 := Get[api.HealthCheck](ctx, c, api.KindHealthCheck, "missing")
	_, err2 := Create(ctx, c, api.KindHealthCheck, api.HealthCheck{Name: "Bad Name"})

	logs := sink.text()
	if !strings.Contains(logs, "Authorization:"+redacted) {
		t.Errorf("logs do not show a redacted Authorization header:\n%s", logs)
	}
	if !strings.Contains(logs, "will be retried") {
		t.Errorf("the retry is not logged:\n%s", logs)
	}
	for what, s := range map[string]string{"logs": logs, "not-found error": fmt.Sprint(err1), "validation error": fmt.Sprint(err2)} {
		if strings.Contains(s, fixtureToken) {
			t.Errorf("%s contain the token:\n%s", what, s)
		}
	}
}

func TestUnreachable(t *testing.T) {
	// A port that was just free: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close()

	c, err := New(Config{Endpoint: endpoint, MaxRetries: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Status(context.Background())
	var ce *Error
	if !errors.As(err, &ce) || ce.Status != 0 || ce.Attempts != 2 {
		t.Fatalf("err = %#v, want a transport *Error after 2 attempts", err)
	}
	for _, s := range []string{
		"cannot reach failoverd at " + endpoint + " after 2 attempts (",
		"connection refused",
		`start it with "failoverd serve --dev" or set FAILOVER_ENDPOINT / the provider's endpoint`,
	} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

func TestAttemptTimeout(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	defer close(release)
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	}
	c := f.client(t, func(cfg *Config) { cfg.Timeout = 50 * time.Millisecond; cfg.MaxRetries = -1 })
	_, err := c.Status(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not answer within 50ms") || !strings.Contains(err.Error(), "/readyz") {
		t.Fatalf("err = %v, want a timeout message", err)
	}
}
