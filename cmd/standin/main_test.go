package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRefusingListener: a connection from a refused source is reset; one
// from another source of the same host is served; changing the set over
// the control stream takes effect and is acknowledged.
func TestRefusingListener(t *testing.T) {
	var r refusals
	if err := r.set("127.0.0.2"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := &refusingListener{Listener: ln, refused: &r}
	defer rl.Close()
	go func() {
		for {
			c, err := rl.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("ok\n"))
			c.Close()
		}
	}()
	// dial from src and report what the server answered, or the error.
	dial := func(src string) (string, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		b, err := io.ReadAll(c)
		return string(b), err
	}
	var out bytes.Buffer
	for _, tc := range []struct {
		command   string // sent on the control stream first, if any
		src       string
		refused   bool
		wantAcked string
	}{
		{"", "127.0.0.2", true, ""},
		{"", "127.0.0.3", false, ""},
		{"refuse 127.0.0.3", "127.0.0.3", true, "refusing 127.0.0.3\n"},
		{"refuse 127.0.0.3", "127.0.0.2", false, "refusing 127.0.0.3\n"},
		{"refuse", "127.0.0.3", false, "refusing \n"},
	} {
		if tc.command != "" {
			out.Reset()
			control(strings.NewReader(tc.command+"\n"), &out, &r)
			if out.String() != tc.wantAcked {
				t.Errorf("%q acknowledged %q, want %q", tc.command, out.String(), tc.wantAcked)
			}
		}
		got, err := dial(tc.src)
		switch {
		case tc.refused && !errors.Is(err, syscall.ECONNRESET):
			t.Errorf("after %q, from %s: got %q, %v; want a connection reset", tc.command, tc.src, got, err)
		case !tc.refused && (err != nil || got != "ok\n"):
			t.Errorf("after %q, from %s: got %q, %v; want served", tc.command, tc.src, got, err)
		}
	}
}

// FuzzRefusalsSet: any list either parses into addresses that print back
// and parse to the same set, or is refused with an error naming the bad entry.
func FuzzRefusalsSet(f *testing.F) {
	for _, s := range []string{"", "127.0.0.2", "127.0.0.2, 127.0.0.3", "::1", "::ffff:127.0.0.2", ",,", "127.0.0.256", "host.example", "127.0.0.2:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var r refusals
		if err := r.set(s); err != nil {
			if !strings.Contains(err.Error(), "is not an IP address") {
				t.Fatalf("set(%q): %v", s, err)
			}
			return
		}
		var again refusals
		if err := again.set(r.String()); err != nil || len(*again.p.Load()) != len(*r.p.Load()) {
			t.Fatalf("set(%q) printed %q, which reads back as %v (%v)", s, r.String(), again.String(), err)
		}
	})
}

// TestRefusalsAdd: --refuse-source is repeatable and takes lists.
func TestRefusalsAdd(t *testing.T) {
	var r refusals
	r.set("")
	for _, v := range []string{"127.0.0.11", "127.0.0.12,127.0.0.13", "127.0.0.11"} {
		if err := r.add(v); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(*r.p.Load()); n != 3 {
		t.Errorf("after three --refuse-source flags the set has %d addresses (%s), want 3", n, r.String())
	}
	if err := r.add("not-an-ip"); err == nil || !strings.Contains(err.Error(), `"not-an-ip" is not an IP address`) {
		t.Errorf("add(not-an-ip) = %v, want an error naming it", err)
	}
}
