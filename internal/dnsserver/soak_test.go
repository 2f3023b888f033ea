package dnsserver

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestSoak is a manual load harness, skipped unless DNSSERVER_SOAK is a
// duration: it serves web.failover.internal for that long on the address
// it prints (for dnsperf), then prints the CPU it used, so the cost per
// query of the UDP path can be measured without a full failoverd.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("DNSSERVER_SOAK"))
	if err != nil {
		t.Skip("DNSSERVER_SOAK unset")
	}
	n, _ := strconv.Atoi(os.Getenv("DNSSERVER_SOAK_SOCKETS"))
	ts := newTestServer(t, func(o *Options) { o.UDPSockets = n }, decision("web", 5, "dc1=192.0.2.10"))
	fmt.Printf("SOAK_ADDR %s\n", ts.Addr())
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	time.Sleep(d)
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	tv := func(a, b syscall.Timeval) float64 {
		return float64(b.Sec-a.Sec) + float64(b.Usec-a.Usec)/1e6
	}
	fmt.Printf("SOAK_CPU user %.3f s sys %.3f s\n", tv(r0.Utime, r1.Utime), tv(r0.Stime, r1.Stime))
}
