package server

import (
	"io"
	"log"
	"net/http"
	"sync/atomic"
	"time"
)

// The limits of failoverd's HTTP listener. None of them needs a token to
// apply: they are what bounds a client that has none. Together with the
// connection cap (failoverd serve --max-http-conns) they keep the API from
// taking the file descriptors, goroutines and memory the prober and the
// DNS server need.
const (
	// ReadHeaderTimeout bounds the request line and headers (and a TLS
	// handshake): a client that trickles them holds a connection slot at
	// most this long.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds the whole request, body included: a body of
	// DefaultMaxBodyBytes needs only ~35 kB/s to arrive in time.
	ReadTimeout = 30 * time.Second
	// WriteTimeout bounds writing a response to a client that does not
	// read it. Event streams extend it before each write instead.
	WriteTimeout = 30 * time.Second
	// IdleTimeout closes keep-alive connections nobody uses.
	IdleTimeout = 60 * time.Second
	// MaxHeaderBytes bounds the request line and headers. The API's
	// largest legitimate headers (a bearer token, an Idempotency-Key of
	// 255 bytes, an If-Match list, a proxy's X-Forwarded-*) fit in a few
	// KiB; net/http's 1 MiB default let one request cost ~1.5 MB.
	MaxHeaderBytes = 32 << 10
)

// NewHTTPServer returns an http.Server for h with the limits above.
// Serve it on a listener capped to the connection budget.
func NewHTTPServer(h http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          errorLog,
	}
}

// trackedBody records whether a request body was read to its end.
type trackedBody struct {
	io.ReadCloser
	sawEOF atomic.Bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.sawEOF.Store(true)
	}
	return n, err
}

// trackBody wraps the body of an HTTP/1 request that announces one.
// HTTP/2 needs nothing: an unread body there ends with its stream.
func trackBody(r *http.Request) *trackedBody {
	if r.ProtoMajor != 1 || r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	tb := &trackedBody{ReadCloser: r.Body}
	r.Body = tb
	return tb
}

// unread reports whether a tracked body was left (partly) unread.
func (b *trackedBody) unread() bool { return b != nil && !b.sawEOF.Load() }

// dropUnreadBody ends the connection of a request whose body the handler
// did not read: a refusal (401, 403, 405, 413, 415…) or a GET that
// carried one. Left alone, net/http would read up to 256 KiB of that body
// after the response, to reuse the connection — and a client announcing a
// Content-Length it never sends would hold the connection, its file
// descriptor and goroutine until ReadTimeout. The response already says
// "Connection: close" (see statusRecorder); expiring the read deadline
// makes that discard fail at once, so the connection closes now.
func dropUnreadBody(w http.ResponseWriter, tb *trackedBody) {
	if tb.unread() {
		http.NewResponseController(w).SetReadDeadline(time.Now())
	}
}
