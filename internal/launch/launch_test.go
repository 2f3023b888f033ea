package launch

import (
	"errors"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestBackendRefuse: a stand-in cuts one source address's path on request
// (the client sees a reset) while others are served; clearing restores it;
// a restart keeps the cut.
func TestBackendRefuse(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "standin")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/standin").CombinedOutput(); err != nil {
		t.Fatalf("go build standin: %v\n%s", err, out)
	}
	b, err := StartBackend(bin, "dc1", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	// get asks the backend from src and says whether it was served.
	get := func(src string) error {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
		c, err := d.Dial("tcp", b.Addr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
			return err
		}
		_, err = io.ReadAll(c)
		return err
	}
	steps := []struct {
		name    string
		do      func() error
		src     string
		refused bool
	}{
		{"before any cut", func() error { return nil }, "127.0.0.2", false},
		{"cut 127.0.0.2", func() error { return b.Refuse("127.0.0.2") }, "127.0.0.2", true},
		{"another source while cut", func() error { return nil }, "127.0.0.3", false},
		{"after a restart", b.Restart, "127.0.0.2", true},
		{"restored", func() error { return b.Refuse() }, "127.0.0.2", false},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		err := get(s.src)
		if s.refused != errors.Is(err, syscall.ECONNRESET) || !s.refused && err != nil {
			t.Errorf("%s: from %s got %v, want refused=%v", s.name, s.src, err, s.refused)
		}
	}
}
