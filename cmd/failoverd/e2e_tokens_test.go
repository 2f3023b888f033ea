package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/launch"
	"github.com/hatopo/terraform-provider-failover/internal/server"
)

// TestSIGHUPReloadsTokens: SIGHUP reloads the token file (it used to kill
// failoverd). A good file replaces every token at once and is logged; a
// broken or world-writable one changes nothing, and the log says why; a
// burst of SIGHUPs is harmless, and SIGTERM still stops cleanly.
func TestSIGHUPReloadsTokens(t *testing.T) {
	needBins(t)
	t.Parallel()
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	// write replaces the file the way an operator's editor or config
	// management does: a new file renamed over the old one.
	write := func(content string, mode os.FileMode) {
		t.Helper()
		tmp := tokens + ".new"
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(tmp, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, tokens); err != nil {
			t.Fatal(err)
		}
	}
	line := func(name, scope, token string) string {
		return fmt.Sprintf("%s %s %s\n", name, scope, server.HashToken(token))
	}
	write(line("viewer", "read", "token-a"), 0o600)
	f := startFailoverdWith(t, launch.Options{DataDir: filepath.Join(dir, "data"), Args: []string{"--token-file", tokens}})
	status := func(token string) int {
		t.Helper()
		resp, body, err := (&rawAPI{base: f.URL, token: token, hc: &http.Client{Timeout: 10 * time.Second}}).do(http.MethodGet, "/v1/status", nil, nil)
		if err != nil {
			t.Fatalf("GET /v1/status: %v (failoverd alive? logs:\n%s)", err, f.Logs())
		}
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET /v1/status: %d %s", resp.StatusCode, body)
		}
		return resp.StatusCode
	}
	// hup sends SIGHUP and waits for the n-th log line with msg.
	hup := func(msg string) string {
		t.Helper()
		before := strings.Count(f.Logs(), `"msg":"`+msg+`"`)
		if err := syscall.Kill(f.Pid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		var got string
		eventually(t, 10*time.Second, "log "+msg+" after SIGHUP", func() (bool, string) {
			logs, n := f.Logs(), 0 // one snapshot: the count and the line agree
			for _, l := range strings.Split(logs, "\n") {
				if strings.Contains(l, `"msg":"`+msg+`"`) {
					got, n = l, n+1
				}
			}
			return n > before, "not logged yet"
		})
		return got
	}
	want := func(token string, code int) {
		t.Helper()
		if got := status(token); got != code {
			t.Errorf("token %q: status %d, want %d", token, got, code)
		}
	}
	want("token-a", http.StatusOK)
	want("token-b", http.StatusUnauthorized)
	want(e2eToken, http.StatusOK) // the --dev token

	write(line("viewer", "read", "token-b"), 0o600)
	if l := hup("token file reloaded"); !strings.Contains(l, tokens) {
		t.Errorf("reload log line does not name the file: %s", l)
	}
	want("token-b", http.StatusOK)
	want("token-a", http.StatusUnauthorized)
	want(e2eToken, http.StatusOK) // kept across reloads

	for _, bad := range []struct {
		name, content string
		mode          os.FileMode
		why           string
	}{
		{"broken hash", "viewer read sha256:nothex\n", 0o600, "sha256:<64 hex digits>"},
		{"world-writable", line("viewer", "read", "token-c"), 0o666, "chmod 600 " + tokens},
	} {
		write(bad.content, bad.mode)
		l := hup("token file not reloaded; the previous tokens stay in force")
		if !strings.Contains(l, bad.why) {
			t.Errorf("%s: the log line does not say why (%q): %s", bad.name, bad.why, l)
		}
		want("token-b", http.StatusOK)
		want("token-c", http.StatusUnauthorized)
	}

	for i := 0; i < 5; i++ {
		syscall.Kill(f.Pid(), syscall.SIGHUP)
	}
	// Signals arriving together may coalesce into one reload.
	eventually(t, 10*time.Second, "a burst of SIGHUPs handled", func() (bool, string) {
		n := strings.Count(f.Logs(), `"msg":"token file not reloaded; the previous tokens stay in force"`)
		return n >= 2+1, fmt.Sprintf("%d refused reloads logged", n)
	})
	want("token-b", http.StatusOK)
	if err := f.Stop(); err != nil {
		t.Errorf("SIGTERM after the SIGHUPs: %v", err)
	}
}
