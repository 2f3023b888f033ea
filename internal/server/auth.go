package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Scope is what a token may do. Scopes are ordered: admin ⊃ operate ⊃ read.
type Scope int

const (
	ScopeRead    Scope = 1 // GET everything
	ScopeOperate Scope = 2 // + burst toggles, overrides (the 4 a.m. buttons)
	ScopeAdmin   Scope = 3 // + create, update, delete objects
)

func (s Scope) String() string {
	switch s {
	case ScopeRead:
		return "read"
	case ScopeOperate:
		return "operate"
	case ScopeAdmin:
		return "admin"
	}
	return fmt.Sprintf("scope(%d)", int(s))
}

// ParseScope parses "read", "operate" or "admin".
func ParseScope(s string) (Scope, error) {
	switch s {
	case "read":
		return ScopeRead, nil
	case "operate":
		return ScopeOperate, nil
	case "admin":
		return ScopeAdmin, nil
	}
	return 0, fmt.Errorf("unknown scope %q: use read, operate or admin", s)
}

// Identity is the caller a token resolves to.
type Identity struct {
	Name  string
	Scope Scope
}

// Auth resolves bearer tokens. It keeps only SHA-256 hashes of tokens, so
// neither memory dumps nor the token file reveal a usable token. Its
// tokens can be replaced while it serves (SIGHUP reloads the token file).
type Auth struct {
	set atomic.Pointer[tokenSet]
}

// tokenSet is an immutable set of token hashes: a change makes a new one.
type tokenSet map[[32]byte]Identity

// NewAuth returns an empty token set: every request is denied.
func NewAuth() *Auth {
	a := &Auth{}
	a.set.Store(&tokenSet{})
	return a
}

// tokens is the current set (none for a zero Auth).
func (a *Auth) tokens() tokenSet {
	if p := a.set.Load(); p != nil {
		return *p
	}
	return nil
}

// Add registers a plaintext token (hashing it at once). It is for setting
// an Auth up; a serving Auth changes through Replace.
func (a *Auth) Add(name string, scope Scope, token string) {
	next := maps.Clone(a.tokens())
	if next == nil {
		next = tokenSet{}
	}
	next[sha256.Sum256([]byte(token))] = Identity{Name: name, Scope: scope}
	a.set.Store(&next)
}

// Replace makes a's tokens those of b, at once for every later request.
func (a *Auth) Replace(b *Auth) { a.set.Store(b.set.Load()) }

// Len is the number of tokens.
func (a *Auth) Len() int { return len(a.tokens()) }

// HashToken returns the token-file form of a token's hash.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(h[:])
}

// NewToken returns a random 256-bit token.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "fo_" + base64.RawURLEncoding.EncodeToString(b)
}

// LoadTokenFile reads a token file: one token per line,
//
//	<name> <read|operate|admin> sha256:<hex of SHA-256 of the token>
//
// with blank lines and # comments ignored. `failoverd token create`
// prints such lines. Names are object names (api.NamePattern): they are
// the actor of audit events. Lines may share a name (one client's old and
// new token while it rotates). A file that others could write is refused:
// whoever can write it can give themselves admin.
func LoadTokenFile(path string) (*Auth, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	if err := checkTokenFileOwner(path, fi); err != nil {
		return nil, err
	}
	return ParseTokens(f, path)
}

// ParseTokens parses token-file content; name is used in errors.
func ParseTokens(r io.Reader, name string) (*Auth, error) {
	set := tokenSet{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) != 3 {
			return nil, fmt.Errorf("%s:%d: want \"<name> <read|operate|admin> sha256:<hex>\", got %d fields", name, line, len(f))
		}
		if !api.ValidName(f[0]) {
			return nil, fmt.Errorf("%s:%d: token name %q: use 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit (like object names)", name, line, clipName(f[0]))
		}
		scope, err := ParseScope(f[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		hexHash, ok := strings.CutPrefix(f[2], "sha256:")
		raw, err := hex.DecodeString(hexHash)
		if !ok || err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("%s:%d: the hash must be sha256:<64 hex digits> (create one with \"failoverd token create %s %s\")", name, line, f[0], f[1])
		}
		var h [32]byte
		copy(h[:], raw)
		if _, dup := set[h]; dup {
			return nil, fmt.Errorf("%s:%d: the same token hash is listed twice", name, line)
		}
		set[h] = Identity{Name: f[0], Scope: scope}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	a := &Auth{}
	a.set.Store(&set)
	return a, nil
}

// clipName shortens a rejected name for an error message.
func clipName(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func (a *Auth) lookup(r *http.Request) (Identity, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return Identity{}, false
	}
	id, ok := a.tokens()[sha256.Sum256([]byte(strings.TrimSpace(tok)))]
	return id, ok
}

type identityKey struct{}

func identityFrom(ctx context.Context) Identity {
	id, _ := ctx.Value(identityKey{}).(Identity)
	return id
}

// require wraps h so it runs only for a token with at least scope. A nil
// Auth (--insecure-no-auth) lets every request through as "anonymous".
func (s *Server) require(scope Scope, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.auth == nil {
			h(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, Identity{Name: "anonymous", Scope: ScopeAdmin})))
			return
		}
		id, ok := s.auth.lookup(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="failoverd"`)
			writeProblem(w, &problem{Status: http.StatusUnauthorized, Title: "Unauthorized",
				Detail: "send \"Authorization: Bearer <token>\" with a token from failoverd's token file (set FAILOVER_TOKEN for the CLI and provider)"})
			return
		}
		if id.Scope < scope {
			p := &problem{Status: http.StatusForbidden, Title: "Forbidden",
				Detail: fmt.Sprintf("token %q has scope %s; this request needs %s", id.Name, id.Scope, scope)}
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				// A refused mutation is a mutating request too: audit it
				// (aggregated, so refusals cannot flood the log).
				action, object := auditTarget(r)
				s.auditRefusal(&request{r: r, who: id, action: action, object: object}, p)
			}
			writeProblem(w, p)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	}
}

// auditTarget names a mutating request's action and object the way its
// handler would, for requests refused before the handler runs.
func auditTarget(r *http.Request) (action, object string) {
	object, _, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/"), "/")
	if name := r.PathValue("name"); name != "" {
		object += "/" + name
	}
	override := strings.HasSuffix(r.Pattern, "/override")
	switch r.Method {
	case http.MethodPost:
		action = "create"
	case http.MethodPut:
		action = "update"
		if override {
			action = "override set"
		}
	case http.MethodDelete:
		action = "delete"
		if override {
			action = "override clear"
		}
	case http.MethodPatch:
		action = "patch"
	default:
		action = strings.ToLower(r.Method)
	}
	return action, object
}
