// Package launch starts failoverd and stand-in site backends as real child
// processes on 127.0.0.1 — for the demo, the benchmarks and end-to-end
// tests, which must exercise the real binary, not an in-process copy.
package launch

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Failoverd is a running failoverd child process.
type Failoverd struct {
	URL     string // http://127.0.0.1:PORT
	DNSAddr string // 127.0.0.1:PORT, UDP and TCP
	Token   string
	DataDir string
	cmd     *exec.Cmd
	done    chan struct{}
	logMu   sync.Mutex
	log     []string
}

// Options for StartFailoverd.
type Options struct {
	Bin     string   // path to the failoverd binary
	DataDir string   // required: survives restarts when reused
	Token   string   // dev admin token
	Args    []string // extra serve flags
	// Log receives every log line (JSON) as it arrives; optional.
	Log func(line string)
	// Timeout waits for "failoverd ready" (default 20s).
	Timeout time.Duration
	// MaxOpenFiles, when set, starts failoverd with RLIMIT_NOFILE (soft
	// and hard) at this value, through util-linux prlimit(1), which execs
	// it in place: tests exhaust its file descriptors cheaply this way.
	MaxOpenFiles uint64
}

// StartFailoverd runs `failoverd serve --dev` on 127.0.0.1:0 and waits
// until it logs that it is ready.
func StartFailoverd(ctx context.Context, o Options) (*Failoverd, error) {
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	args := append([]string{"serve", "--dev", "--http-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0",
		"--data-dir", o.DataDir, "--log-format", "json"}, o.Args...)
	bin := o.Bin
	if o.MaxOpenFiles > 0 {
		pl, err := exec.LookPath("prlimit")
		if err != nil {
			return nil, fmt.Errorf("MaxOpenFiles needs prlimit(1) from util-linux: %w", err)
		}
		args = append([]string{fmt.Sprintf("--nofile=%d:%d", o.MaxOpenFiles, o.MaxOpenFiles), "--", o.Bin}, args...)
		bin = pl
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "FAILOVERD_DEV_TOKEN="+o.Token)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	f := &Failoverd{Token: o.Token, DataDir: o.DataDir, cmd: cmd, done: make(chan struct{})}
	type readyLine struct{ http, dns string }
	ready := make(chan readyLine, 1)
	// Wait closes the pipe once the process exits, which may drop its last
	// lines ("failoverd stopped cleanly") if reading has not finished: read
	// to EOF first, then Wait.
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer io.Copy(io.Discard, stderr) // after a scan error, keep the child from blocking
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			f.logMu.Lock()
			f.log = append(f.log, line)
			f.logMu.Unlock()
			if o.Log != nil {
				o.Log(line)
			}
			var rec struct {
				Msg  string `json:"msg"`
				HTTP string `json:"http"`
				DNS  string `json:"dns"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "failoverd ready" {
				select {
				case ready <- readyLine{rec.HTTP, rec.DNS}:
				default:
				}
			}
		}
	}()
	go func() { <-readDone; cmd.Wait(); close(f.done) }()
	select {
	case r := <-ready:
		f.URL = "http://" + r.http
		f.DNSAddr = r.dns
		return f, nil
	case <-f.done:
		return nil, fmt.Errorf("failoverd exited before it was ready:\n%s", f.Logs())
	case <-time.After(o.Timeout):
		f.Kill()
		return nil, fmt.Errorf("failoverd not ready after %s:\n%s", o.Timeout, f.Logs())
	case <-ctx.Done():
		f.Kill()
		return nil, ctx.Err()
	}
}

// Logs returns everything failoverd logged so far.
func (f *Failoverd) Logs() string {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return strings.Join(f.log, "\n")
}

// Pid is the process id.
func (f *Failoverd) Pid() int { return f.cmd.Process.Pid }

// Stop sends SIGTERM and waits for a clean exit.
func (f *Failoverd) Stop() error {
	select {
	case <-f.done:
		return nil
	default:
	}
	f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(20 * time.Second):
		f.Kill()
		return errors.New("failoverd did not stop within 20s of SIGTERM; killed")
	}
	if st := f.cmd.ProcessState; st != nil && !st.Success() {
		return fmt.Errorf("failoverd exited with %s", st)
	}
	return nil
}

// Kill sends SIGKILL (a crash) and waits for the process to be gone.
func (f *Failoverd) Kill() {
	f.cmd.Process.Signal(syscall.SIGKILL)
	<-f.done
}

// Pause sends SIGSTOP and returns once the kernel reports the process
// stopped: it holds its sockets and its etcd lease stops being renewed,
// like a hung host.
func (f *Failoverd) Pause() error { return signalAndWait(f.cmd.Process, syscall.SIGSTOP, true) }

// Resume sends SIGCONT to a paused failoverd.
func (f *Failoverd) Resume() error { return signalAndWait(f.cmd.Process, syscall.SIGCONT, false) }

// Exited is closed once the process has exited.
func (f *Failoverd) Exited() <-chan struct{} { return f.done }

// Backend is a stand-in site backend (cmd/standin) child process.
type Backend struct {
	Addr string
	// Addrs are all its listening addresses (Addr is the first); more
	// than one with StartBackends.
	Addrs []string
	Site  string
	bin   string
	cmd   *exec.Cmd
	done  chan struct{}
}

// StartBackend runs bin (cmd/standin) for site on addr ("127.0.0.1:0"
// picks a port; pass the previous Addr to restart on the same port).
func StartBackend(bin, site, addr string) (*Backend, error) {
	return startBackend(bin, site, addr, 1)
}

// StartBackends runs one stand-in for site listening on n ports of
// 127.0.0.1 (benchmarks spread checks over many destinations).
func StartBackends(bin, site string, n int) (*Backend, error) {
	return startBackend(bin, site, "127.0.0.1:0", n)
}

func startBackend(bin, site, addr string, n int) (*Backend, error) {
	cmd := exec.Command(bin, "--addr", addr, "--site", site, "--listeners", strconv.Itoa(n))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &Backend{Site: site, bin: bin, cmd: cmd, done: make(chan struct{})}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("stand-in %s did not start on %s: %w", site, addr, err)
	}
	go func() { io.Copy(io.Discard, out); cmd.Wait(); close(b.done) }()
	b.Addrs = strings.Fields(line)
	if len(b.Addrs) != n {
		b.Stop()
		return nil, fmt.Errorf("stand-in %s printed %q, want %d addresses", site, line, n)
	}
	b.Addr = b.Addrs[0]
	return b, nil
}

// Pid is the process id.
func (b *Backend) Pid() int { return b.cmd.Process.Pid }

// Stop kills the backend: connections to it are refused from now on.
func (b *Backend) Stop() {
	select {
	case <-b.done:
		return
	default:
	}
	b.cmd.Process.Signal(syscall.SIGKILL)
	<-b.done
}

// Restart starts the backend again on the same address.
func (b *Backend) Restart() error {
	b.Stop()
	var nb *Backend
	var err error
	// The port was ours a moment ago; retry briefly in case the kernel
	// has not released it yet.
	for i := 0; i < 50; i++ {
		if nb, err = StartBackend(b.bin, b.Site, b.Addr); err == nil {
			*b = *nb
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}
