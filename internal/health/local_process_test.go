package health

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// fdChildEnv makes the test binary, re-executed by
// TestProbeOutOfFileDescriptors, play the prober whose fd limit is lowered.
const fdChildEnv = "FAILOVER_TEST_FD_CHILD_BACKEND"

// fdChildReport is what the child prints (one JSON line after fdChildTag).
type fdChildReport struct {
	Limited     []Result     // results while no fd was left
	Transitions []Transition // every transition, limited or not
	Final       api.SiteObservation
}

const fdChildTag = "FD-CHILD-REPORT "

// TestProbeOutOfFileDescriptors is the false failover, for real: a
// prober process whose RLIMIT_NOFILE leaves no descriptor for a socket
// (socket() fails with EMFILE) keeps probing a healthy backend with
// rise = fall = 1. The backend must never be judged unhealthy; the site
// reads unknown with the local reason, and healthy again as soon as
// descriptors are back.
//
// The limit is lowered in a child process (this test binary, re-executed):
// setrlimit in the test process would starve every other test.
func TestProbeOutOfFileDescriptors(t *testing.T) {
	if backend := os.Getenv(fdChildEnv); backend != "" {
		fdChild(t, backend)
		return
	}
	backend := rawHTTPServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestProbeOutOfFileDescriptors$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), fdChildEnv+"="+backend)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child prober: %v\n%s", err, out)
	}
	var rep fdChildReport
	found := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), fdChildTag); ok {
			if err := json.Unmarshal([]byte(line), &rep); err != nil {
				t.Fatalf("child report: %v", err)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("no report from the child prober:\n%s", out)
	}

	// The limit bit: probes really failed with EMFILE while it held.
	if len(rep.Limited) < 5 {
		t.Fatalf("only %d probes while out of descriptors:\n%s", len(rep.Limited), out)
	}
	for _, r := range rep.Limited {
		if r.Local != LocalFileDescriptors || !strings.Contains(r.Error, "too many open files") {
			t.Errorf("probe while out of descriptors: %+v, want a local file_descriptors failure", r)
		}
	}
	for _, tr := range rep.Transitions {
		if tr.To == api.StateUnhealthy {
			t.Errorf("the healthy backend was judged unhealthy: %+v", tr)
		}
	}
	if len(rep.Transitions) == 0 || rep.Transitions[0].To != api.StateUnknown || rep.Transitions[0].Local != LocalFileDescriptors {
		t.Errorf("transitions %+v, want healthy → unknown (local) first", rep.Transitions)
	}
	if rep.Final.State != api.StateHealthy {
		t.Errorf("after descriptors came back: %+v, want healthy", rep.Final)
	}
}

// fdChild runs in the re-executed test binary: it probes backend once with
// descriptors (healthy), then with RLIMIT_NOFILE lowered to the number of
// descriptors already open, then with the limit restored, and prints what
// it saw.
func fdChild(t *testing.T, backend string) {
	c := newCheck("web", api.CheckHTTP, backend, fast(0.02, 0.5, 1, 1))
	// A first probe before the limit: it proves the backend answers and
	// sets up the runtime's poller, which needs descriptors of its own.
	if r := probeHTTP(context.Background(), compiled(t, c)); !r.OK {
		t.Fatalf("backend not healthy to start with: %+v", r)
	}
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}

	rec := &recorder{}
	m := NewMonitor(rec.options(""))
	m.Restore("web", api.SiteObservation{State: api.StateHealthy})
	m.Upsert(c)

	// The warm-up probe's connection is closed by a transport goroutine,
	// maybe not yet: wait until this process holds no socket, or closing
	// it later would open a hole below the limit that every probe reuses.
	for start := time.Now(); openSockets(t) > 0; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%d sockets still open after the warm-up probe", openSockets(t))
		}
	}
	// The kernel gives a new descriptor the lowest free number and refuses
	// it when that number is not below RLIMIT_NOFILE: a limit equal to the
	// lowest free number leaves no descriptor at all.
	lowest := uint64(0)
	for ; ; lowest++ {
		if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(lowest), syscall.F_GETFD, 0); errno == syscall.EBADF {
			break
		}
	}
	limited := orig
	limited.Cur = lowest
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limited); err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	deadline := time.Now().Add(20 * time.Second)
	for rec.count("web") < 15 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	m.Stop()
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	rep := fdChildReport{Limited: append([]Result(nil), rec.results...)}
	rec.mu.Unlock()

	m.Start(context.Background())
	for time.Now().Before(deadline) {
		if o, _ := m.Observation("web"); o.State == api.StateHealthy {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	m.Stop()
	rec.mu.Lock()
	rep.Transitions = append([]Transition(nil), rec.transitions...)
	rec.mu.Unlock()
	rep.Final, _ = m.Observation("web")
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.Write(append([]byte("\n"+fdChildTag), append(b, '\n')...))
}

// openSockets counts this process's socket descriptors.
func openSockets(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}
