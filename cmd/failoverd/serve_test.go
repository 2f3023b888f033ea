package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
