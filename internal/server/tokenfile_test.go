package server

import (
	"strings"
	"testing"
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
	f.Fuzz(func(t *testing.T, content string) {
		a, err := ParseTokens(strings.NewReader(content), "fuzz")
		if err != nil {
			return
		}
		for h, id := range a.byHash {
			if id.Scope < ScopeRead || id.Scope > ScopeAdmin || id.Name == "" || h == [32]byte{} && !strings.Contains(content, strings.Repeat("0", 64)) {
				t.Fatalf("parsed an invalid identity %+v", id)
			}
		}
	})
}
