package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// Every asset the page names is embedded and served with the headers;
// the page names no external origin and no inline code.
func TestAssetsComplete(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	get := func(path string) (int, http.Header, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	code, hdr, page := get(Prefix)
	if code != http.StatusOK || hdr.Get("Content-Security-Policy") != CSP || hdr.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("GET %s: %d %v", Prefix, code, hdr)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("the page names %d assets: %v", len(refs), refs)
	}
	for _, m := range refs {
		ref := m[1]
		if strings.Contains(ref, ":") || strings.HasPrefix(ref, "//") {
			t.Errorf("the page loads %q from another origin", ref)
			continue
		}
		if code, h, _ := get(Prefix + ref); code != http.StatusOK || h.Get("Content-Security-Policy") != CSP {
			t.Errorf("asset %s: %d", ref, code)
		}
	}
	if regexp.MustCompile(`<script>|<style>| style="| on[a-z]+="`).MatchString(page) {
		t.Error("inline script or style in the page: the CSP blocks it")
	}
	_, _, js := get(Prefix + "app.js")
	for _, bad := range []string{"innerHTML", "localStorage.setItem", "eval(", "?token=", "&token="} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %q", bad)
		}
	}
}
