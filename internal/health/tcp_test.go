package health

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestProbeTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	closed := freePort(t)

	tests := []struct {
		name    string
		addr    string
		wantOK  bool
		wantErr string
	}{
		{"listening", ln.Addr().String(), true, ""},
		{"closed port", closed, false, "dial tcp " + closed + ": connect: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := probeTCP(context.Background(), compiled(t, newCheck("db", api.CheckTCP, tt.addr)))
			if res.OK != tt.wantOK || res.Error != tt.wantErr || res.Status != 0 {
				t.Fatalf("OK=%v Error=%q Status=%d, want OK=%v Error=%q", res.OK, res.Error, res.Status, tt.wantOK, tt.wantErr)
			}
			if res.Check != "db" || res.Latency <= 0 || res.At.Before(res.Start) {
				t.Errorf("bad bookkeeping: %+v", res)
			}
		})
	}
}

// TestCompileTCPAddress: a tcp check's address is host:port; anything else
// is refused when the check is compiled, before any probe (the Monitor then
// reports "invalid check: …" as the observation's last error).
func TestCompileTCPAddress(t *testing.T) {
	_, err := Compile(newCheck("db", api.CheckTCP, "127.0.0.1"), ProbeOptions{})
	if err == nil || err.Error() != "address: address 127.0.0.1: missing port in address" {
		t.Fatalf("Compile: %v", err)
	}
}

// TestProbeLeavesNoTimeWait: probes close with a reset, so neither side
// keeps a TIME_WAIT socket for 60 s per probe — the ephemeral-port and
// stale-SYN trouble of thousands of probes per second (dialProbe).
func TestProbeLeavesNoTimeWait(t *testing.T) {
	for _, typ := range []string{api.CheckHTTP, api.CheckTCP} {
		t.Run(typ, func(t *testing.T) {
			addr := rawHTTPServer(t)
			// The listener's port came from port 0, which the kernel may
			// hand out while a TIME_WAIT from another package's connection
			// still sits on it; only sockets the probes leave count.
			before := timeWaitWith(t, addr)
			c := newCheck("web", typ, addr)
			for i := 0; i < 20; i++ {
				if res := Probers[typ](context.Background(), compiled(t, c)); !res.OK {
					t.Fatalf("probe %d: %+v", i, res)
				}
			}
			time.Sleep(200 * time.Millisecond) // let the backend finish its side
			var left []string
			for tuple := range timeWaitWith(t, addr) {
				if !before[tuple] {
					left = append(left, tuple)
				}
			}
			if len(left) != 0 {
				t.Fatalf("%d TIME_WAIT sockets to or from %s after 20 probes, want 0: %v", len(left), addr, left)
			}
		})
	}
}

// timeWaitWith returns the IPv4 TIME_WAIT sockets (as "local remote" hex
// tuples from /proc/net/tcp) whose local or remote port is addr's port (on
// 127.0.0.1 both ends are this host).
func timeWaitWith(t *testing.T, addr string) map[string]bool {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	hexPort := fmt.Sprintf(":%04X", p)
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	found := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 3 && f[3] == "06" && (strings.HasSuffix(f[1], hexPort) || strings.HasSuffix(f[2], hexPort)) {
			found[f[1]+" "+f[2]] = true
		}
	}
	return found
}
