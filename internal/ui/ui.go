// Package ui is failoverd's console at /ui/: a page, a script and a style
// sheet embedded in the binary. The assets hold no data and need no token:
// every figure the page shows comes from the v1 API, called with the
// operator's token, which the page keeps in sessionStorage and never puts
// in a URL the server sees (a runbook link carries it in the fragment,
// /ui/#token=…, which browsers never send, and the page strips it).
package ui

import (
	"embed"
	"io/fs"
	"net/http"
)

// Prefix is where the console is mounted.
const Prefix = "/ui/"

//go:embed assets
var assets embed.FS

// CSP allows the page only its own script, style and API: no inline
// script or style (so injected markup cannot run), no framing (so the
// buttons cannot be clickjacked), no form posts or base rewrites.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console's assets under Prefix, with the security
// headers on every answer (including 404s).
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	files := http.StripPrefix(Prefix, http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SecurityHeaders(w.Header())
		files.ServeHTTP(w, r)
	})
}

// SecurityHeaders sets the console's response headers.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// The assets change with the binary; revalidate rather than run a
	// stale script against a newer API.
	h.Set("Cache-Control", "no-cache")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}
