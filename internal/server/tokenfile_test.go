package server

import (
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestTokenFileLines(t *testing.T) {
	tok := NewToken()
	good := "# ops tokens\n\nci admin " + HashToken(tok) + "\nviewer read " + HashToken("other") + "\n"
	a, err := ParseTokens(strings.NewReader(good), "tokens")
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 2 {
		t.Fatalf("%d tokens, want 2", a.Len())
	}
	bad := []struct{ content, wantErr string }{
		{"ci admin", "tokens:1: want"},
		{"ci root " + HashToken(tok), `tokens:1: unknown scope "root"`},
		{"ci admin " + tok, "tokens:1: the hash must be sha256:"},
		{"ci admin sha256:abcd", "tokens:1: the hash must be sha256:"},
		{"a read " + HashToken(tok) + "\nb admin " + HashToken(tok), "tokens:2: the same token hash is listed twice"},
		// Names are object names: they are the audit actor and the
		// idempotency namespace.
		{"CI admin " + HashToken(tok), `tokens:1: token name "CI": use 1–63 lower-case letters`},
		{"ci/deploy admin " + HashToken(tok), `tokens:1: token name "ci/deploy"`},
		{"ci_deploy admin " + HashToken(tok), `tokens:1: token name "ci_deploy"`},
		{"-ci admin " + HashToken(tok), `tokens:1: token name "-ci"`},
		{strings.Repeat("a", 64) + " admin " + HashToken(tok), `tokens:1: token name "aaaa`},
	}
	for _, tt := range bad {
		_, err := ParseTokens(strings.NewReader(tt.content), "tokens")
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseTokens(%q) = %v, want error containing %q", tt.content, err, tt.wantErr)
		}
	}
}

// The token file is operator input: no content may crash failoverd, and
// what parses must hold only hashes that resolve their own tokens.
func FuzzTokenFile(f *testing.F) {
	f.Add("ci admin " + HashToken("secret"))
	f.Add("# c\n\nx read sha256:" + strings.Repeat("0", 64))
	f.Add("a b c d")
	f.Add("a/b admin " + HashToken("x"))
	f.Add("ok read " + HashToken("1") + "\nok admin " + HashToken("2"))
	f.Fuzz(func(t *testing.T, content string) {
		a, err := ParseTokens(strings.NewReader(content), "fuzz")
		if err != nil {
			return
		}
		for h, id := range a.tokens() {
			if id.Scope < ScopeRead || id.Scope > ScopeAdmin || !api.ValidName(id.Name) || h == [32]byte{} && !strings.Contains(content, strings.Repeat("0", 64)) {
				t.Fatalf("parsed an invalid identity %+v", id)
			}
		}
	})
}

// TestTokenFileOwnership: a token file someone else could write is
// refused with a one-line error that says how to fix it; read access for
// others is harmless (the file holds hashes).
func TestTokenFileOwnership(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("Windows protects files with ACLs, not modes")
	}
	content := "ci admin " + HashToken("secret") + "\n"
	tests := []struct {
		name    string
		mode    os.FileMode
		uid     int // -1: leave the owner
		wantErr string
	}{
		{"owner only", 0o600, -1, ""},
		{"readable by all", 0o644, -1, ""},
		{"read-only", 0o400, -1, ""},
		{"group-writable", 0o620, -1, "run chmod 600 "},
		{"world-writable", 0o606, -1, "run chmod 600 "},
		{"0666", 0o666, -1, "writable by its group or by others (mode 0666)"},
		{"another user's", 0o600, 4242, "belongs to uid 4242"},
		{"root's", 0o600, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.uid >= 0 && os.Geteuid() != 0 {
				t.Skip("changing a file's owner needs root")
			}
			path := filepath.Join(t.TempDir(), "tokens")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			if tc.uid >= 0 {
				if err := os.Chown(path, tc.uid, -1); err != nil {
					t.Fatal(err)
				}
			}
			a, err := LoadTokenFile(path)
			if tc.wantErr == "" {
				if err != nil || a.Len() != 1 {
					t.Fatalf("LoadTokenFile: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "chmod 600 "+path) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("LoadTokenFile = %v, want a one-line error containing %q and \"chmod 600 %s\"", err, tc.wantErr, path)
			}
		})
	}
}

// TestAuthReplace: a reload swaps every token at once, safely under
// concurrent requests (run with -race).
func TestAuthReplace(t *testing.T) {
	t.Parallel()
	a := NewAuth()
	a.Add("old", ScopeAdmin, "old-token")
	next := NewAuth()
	next.Add("new", ScopeRead, "new-token")
	req := func(tok string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				_, oldOK := a.lookup(req("old-token"))
				_, newOK := a.lookup(req("new-token"))
				if oldOK && newOK {
					t.Error("old and new tokens valid at once")
					return
				}
			}
		}()
	}
	a.Replace(next)
	wg.Wait()
	if id, ok := a.lookup(req("new-token")); !ok || id.Name != "new" || id.Scope != ScopeRead {
		t.Errorf("after Replace: new token resolves to %+v, %v", id, ok)
	}
	if _, ok := a.lookup(req("old-token")); ok {
		t.Error("after Replace: the old token still resolves")
	}
}
