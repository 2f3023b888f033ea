package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func configFlags(t *testing.T, content string, args ...string) (serveConfig, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "failoverd.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c serveConfig
	serveFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, applyConfigFile(fs, path)
}

func TestConfigFile(t *testing.T) {
	c, err := configFlags(t, `{"http-addr": "127.0.0.1:9999", "site": "dc1", "dev": true}`, "--site", "cli-wins")
	if err != nil {
		t.Fatal(err)
	}
	if c.httpAddr != "127.0.0.1:9999" || c.site != "cli-wins" || !c.dev {
		t.Fatalf("config = %+v", c)
	}
	for _, tt := range []struct{ content, want string }{
		{`{"htp-addr": "x"}`, `unknown setting "htp-addr"`},
		{`[1]`, "not a JSON object of flag values"},
		{`{"dev": "maybe"}`, "dev:"},
	} {
		if _, err := configFlags(t, tt.content); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("config %s: err %v, want %q", tt.content, err, tt.want)
		}
	}
}

func FuzzConfigFile(f *testing.F) {
	f.Add(`{"http-addr": "127.0.0.1:0", "dev": true}`)
	f.Add(`{"log-level": 3}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, content string) {
		configFlags(t, content) // must never panic
	})
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:53": true, "localhost:1": true, "127.9.9.9:0": true,
		"0.0.0.0:8080": false, ":8080": false, "192.0.2.1:80": false, "nonsense": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestServeFlagsTogether: serve's flags are checked together before
// anything starts, and each refusal names the flag and the fix.
func TestServeFlagsTogether(t *testing.T) {
	etcd := []string{"--store", "etcd", "--site", "dc1", "--etcd-endpoints", "http://127.0.0.1:2379,http://127.0.0.2:2379"}
	with := func(extra ...string) []string { return append(append([]string{}, etcd...), extra...) }
	tests := []struct {
		name string
		args []string
		want string // substring of the error; "" = accepted
	}{
		{"bolt default", nil, ""},
		{"bad site", []string{"--site", "DC 1"}, `--site "DC 1": use lower-case`},
		{"dev off loopback", []string{"--dev", "--http-addr", "0.0.0.0:8080"}, "--dev listens on 127.0.0.1 only"},
		{"unknown store", []string{"--store", "consul"}, `--store "consul": use bolt (one node) or etcd (a cluster)`},
		{"etcd flag with bolt", []string{"--etcd-endpoints", "http://127.0.0.1:2379"}, "--etcd-endpoints is for --store etcd"},
		{"etcd", etcd, ""},
		{"etcd without site", []string{"--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379"}, "--store etcd needs --site"},
		{"etcd without endpoints", []string{"--store", "etcd", "--site", "dc1"}, "--store etcd needs --etcd-endpoints"},
		{"endpoint without port", []string{"--store", "etcd", "--site", "dc1", "--etcd-endpoints", "http://127.0.0.1"}, `"http://127.0.0.1" is not an etcd client URL`},
		{"endpoint without scheme", []string{"--store", "etcd", "--site", "dc1", "--etcd-endpoints", "127.0.0.1:2379"}, "is not an etcd client URL: write http(s)://host:port"},
		{"prefix", with("--etcd-prefix", "failover"), `--etcd-prefix "failover": start and end it with '/'`},
		{"prefix nested", with("--etcd-prefix", "/failover/prod/"), ""},
		{"cert without key", with("--etcd-cert", "c.pem"), "--etcd-cert and --etcd-key go together"},
		{"lease fraction", with("--lease-ttl", "1500ms"), "--lease-ttl 1.5s: use whole seconds"},
		{"lease zero", with("--lease-ttl", "0s"), "--lease-ttl 0s: use whole seconds"},
		{"lease too short", with("--lease-ttl", "2s"), "--lease-ttl 2s is too short: a node stops deciding after half the TTL without an answer from etcd"},
		{"lease one second", with("--lease-ttl", "1s"), "use 3s or more (default 5s)"},
		{"lease ok", with("--lease-ttl", "3s"), ""},
		{"contact timeout", with("--lease-ttl", "30s", "--contact-timeout", "8s"), ""},
		{"contact timeout half the lease", with("--lease-ttl", "4s", "--contact-timeout", "2s"), ""},
		{"contact timeout over half the lease", with("--contact-timeout", "3s"), "--contact-timeout 3s: use 1s to half --lease-ttl (2.5s), so that a leader cut off from etcd stops deciding before its lease expires"},
		{"contact timeout too short", with("--contact-timeout", "500ms"), "--contact-timeout 500ms: use 1s to half --lease-ttl"},
		{"contact timeout with bolt", []string{"--contact-timeout", "1s"}, "--contact-timeout is for --store etcd"},
		{"lease too long", with("--lease-ttl", "11m"), "--lease-ttl 11m0s: use whole seconds from 3s to 10m0s"},
		{"probe source", []string{"--probe-source-addr", "127.0.0.2"}, ""},
		{"probe source with port", []string{"--probe-source-addr", "127.0.0.2:80"}, `--probe-source-addr "127.0.0.2:80": give an IP address`},
		{"probe source not here", []string{"--probe-source-addr", "192.0.2.1"}, "--probe-source-addr 192.0.2.1 is not an address of this host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseServe(tt.args, io.Discard)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if tt.name == "etcd" && (len(c.endpoints) != 2 || c.etcdPrefix != "/failover/" || c.leaseTTL != 5*time.Second) {
				t.Errorf("parsed %+v", c)
			}
			if tt.name == "probe source" && c.probeSource.String() != "127.0.0.2" {
				t.Errorf("probe source %v", c.probeSource)
			}
		})
	}
}

// TestClosersRunNewestFirst: serve's one cleanup path closes components
// in reverse order of creation, all of them even when one fails, and says
// whether everything closed.
func TestClosersRunNewestFirst(t *testing.T) {
	var order []string
	var cs closers
	for _, name := range []string{"store", "engine", "http"} {
		cs.push(name, func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Errorf("%s closed without a deadline", name)
			}
			order = append(order, name)
			if name == "engine" {
				return errors.New("flush timed out")
			}
			return nil
		})
	}
	if clean := cs.run(slog.New(slog.NewTextHandler(io.Discard, nil))); clean {
		t.Error("run reported clean although a close failed")
	}
	if got := strings.Join(order, ","); got != "http,engine,store" {
		t.Errorf("closed %s, want http,engine,store", got)
	}
}
