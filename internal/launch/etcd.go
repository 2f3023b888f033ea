package launch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// EtcdOptions for StartEtcdCluster. The zero value of every field but Bin
// and Dir has a default (see the accessor methods).
type EtcdOptions struct {
	Bin string // path to the etcd binary (see EtcdForTest, FindEtcd)
	// Dir holds one data directory per member (Dir/m1, Dir/m2, …), each
	// created afresh: a new cluster must not find another's member identity
	// there. The caller owns Dir: the cluster never removes it, so a test's
	// t.TempDir must be registered before the cluster's Close (cleanups run
	// LIFO). Each member preallocates a 64 MiB WAL segment: about 120 MiB of
	// disk per member.
	Dir     string
	Members int // default 3
	// Hosts[i] is the loopback address member i binds; default
	// 127.0.0.(i+1), so each member (each "site") has an address of its own.
	Hosts []string
	// Raft timing. The defaults (50 ms heartbeat, 500 ms election timeout)
	// suit loopback, where a round trip is microseconds: a dead leader is
	// replaced within about a second, which keeps failover tests short.
	// The price is that a member stalled for longer than the election
	// timeout (a busy shared machine, a long fsync, a GC pause) costs the
	// cluster its leader and the clients a retry; etcd's own defaults
	// (100 ms / 1000 ms) are tuned for real networks.
	HeartbeatInterval time.Duration
	ElectionTimeout   time.Duration
	// Args are extra flags for every member, e.g. --auto-compaction-retention.
	// Not --unsafe-no-fsync for anything that measures commit latency or
	// claims durability: acknowledged writes must survive a crash.
	Args []string
	// Log receives every log line (JSON) of every member as it arrives; optional.
	Log func(member, line string)
	// Timeout bounds the wait for a ready cluster (default 30s).
	Timeout time.Duration
	// TLS, when set, serves the client URLs over https with this
	// certificate and accepts only clients with a certificate signed by
	// its CA (peers still talk plain http on loopback).
	TLS *EtcdTLS
}

// EtcdTLS are the PEM files of a member's client-facing TLS.
type EtcdTLS struct {
	CertFile, KeyFile string // the members' certificate (valid for their 127.0.0.N addresses)
	CAFile            string // signs the clients' certificates and the members'
}

// clientTLS is the TLS configuration of a client of such members: it
// trusts CAFile and presents the members' own certificate.
func (t *EtcdTLS) clientTLS() (*tls.Config, error) {
	ca, err := os.ReadFile(t.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("launch: %s holds no PEM certificate", t.CAFile)
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func (o EtcdOptions) members() int {
	if o.Members == 0 {
		return 3
	}
	return o.Members
}

func (o EtcdOptions) host(i int) string {
	if i < len(o.Hosts) {
		return o.Hosts[i]
	}
	return fmt.Sprintf("127.0.0.%d", i+1)
}

func (o EtcdOptions) heartbeatInterval() time.Duration {
	if o.HeartbeatInterval == 0 {
		return 50 * time.Millisecond
	}
	return o.HeartbeatInterval
}

func (o EtcdOptions) electionTimeout() time.Duration {
	if o.ElectionTimeout == 0 {
		return 500 * time.Millisecond
	}
	return o.ElectionTimeout
}

func (o EtcdOptions) timeout() time.Duration {
	if o.Timeout == 0 {
		return 30 * time.Second
	}
	return o.Timeout
}

// etcdLogLines bounds the log kept per member: benchmarks run a cluster for
// minutes, and only the tail matters when something fails.
const etcdLogLines = 2000

// EtcdCluster is a running etcd cluster of child processes on loopback.
type EtcdCluster struct {
	Members []*EtcdMember
	http    *http.Client
}

// EtcdMember is one member of an EtcdCluster. Its name, addresses and data
// directory stay the same across Stop/Kill and Restart.
type EtcdMember struct {
	Name      string // m1, m2, …
	ClientURL string // http://127.0.0.N:PORT (https with EtcdOptions.TLS)
	PeerURL   string
	DataDir   string

	bin  string
	args []string
	log  func(member, line string)

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when the current process has exited
	paused bool
	downed bool     // stopped or killed by us, so an exit is no failure
	lines  []string // ring of the last etcdLogLines lines
	next   int
}

// StartEtcdCluster starts o.members() etcd members as one new cluster and
// waits until every member reports healthy (a leader exists and a
// linearizable read succeeds through it). On error nothing is left running.
func StartEtcdCluster(ctx context.Context, o EtcdOptions) (*EtcdCluster, error) {
	if o.Bin == "" || o.Dir == "" {
		return nil, errors.New("launch: EtcdOptions.Bin and EtcdOptions.Dir are required")
	}
	if n := o.members(); n < 1 || n > 254 {
		return nil, fmt.Errorf("launch: EtcdOptions.Members is %d; use 1 to 254 (3 or 5 for a quorum that survives member loss)", n)
	}
	// The ports are picked free and released before etcd binds them, so
	// another process can take one in between: start again on new ports.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var c *EtcdCluster
		c, err = startEtcdOnce(ctx, o)
		if err == nil {
			return c, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
	}
	return nil, err
}

func startEtcdOnce(ctx context.Context, o EtcdOptions) (c *EtcdCluster, err error) {
	c = &EtcdCluster{http: &http.Client{Timeout: 2 * time.Second}}
	scheme := "http"
	if o.TLS != nil {
		cfg, err := o.TLS.clientTLS()
		if err != nil {
			return c, fmt.Errorf("launch: etcd TLS: %w", err)
		}
		c.http.Transport = &http.Transport{TLSClientConfig: cfg}
		scheme = "https"
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	var initial []string
	for i := 0; i < o.members(); i++ {
		host := o.host(i)
		ports, err := freePorts(host, 2)
		if err != nil {
			return c, err
		}
		m := &EtcdMember{
			Name:      "m" + strconv.Itoa(i+1),
			ClientURL: scheme + "://" + net.JoinHostPort(host, strconv.Itoa(ports[0])),
			PeerURL:   "http://" + net.JoinHostPort(host, strconv.Itoa(ports[1])),
			DataDir:   filepath.Join(o.Dir, "m"+strconv.Itoa(i+1)),
			bin:       o.Bin,
			log:       o.Log,
		}
		// A retry after a port clash must not find the previous attempt's
		// member identity in the data directory.
		if err := os.RemoveAll(m.DataDir); err != nil {
			return c, err
		}
		c.Members = append(c.Members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	// A token of its own keeps members of two clusters from ever joining
	// each other, should one reuse a port another has just released.
	token := make([]byte, 8)
	rand.Read(token)
	for _, m := range c.Members {
		m.args = append([]string{
			"--name", m.Name,
			"--data-dir", m.DataDir,
			"--listen-client-urls", m.ClientURL,
			"--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL,
			"--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-token", "failover-" + hex.EncodeToString(token),
			"--initial-cluster-state", "new",
			"--heartbeat-interval", strconv.FormatInt(o.heartbeatInterval().Milliseconds(), 10),
			"--election-timeout", strconv.FormatInt(o.electionTimeout().Milliseconds(), 10),
		}, o.Args...)
		if o.TLS != nil {
			m.args = append(m.args, "--cert-file", o.TLS.CertFile, "--key-file", o.TLS.KeyFile,
				"--trusted-ca-file", o.TLS.CAFile, "--client-cert-auth")
		}
		if err := m.start(); err != nil {
			return c, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	if err := c.WaitReady(wctx); err != nil {
		return c, fmt.Errorf("etcd cluster not ready: %w\n%s", err, c.Logs())
	}
	return c, nil
}

// freePorts returns n ports that were free on host a moment ago, all held
// open together so that they differ.
func freePorts(host string, n int) ([]int, error) {
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("launch: no free port on %s (on Linux all of 127.0.0.0/8 is loopback): %w", host, err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Endpoints are the client URLs of all members, for clientv3.Config.
func (c *EtcdCluster) Endpoints() []string {
	var eps []string
	for _, m := range c.Members {
		eps = append(eps, m.ClientURL)
	}
	return eps
}

// Close kills every member (SIGKILL works on a paused one too) and waits
// until all are gone. The data directories stay. Safe to call twice.
func (c *EtcdCluster) Close() {
	for _, m := range c.Members {
		m.Kill()
	}
}

// Logs returns the kept log of every member, each line prefixed with its name.
func (c *EtcdCluster) Logs() string {
	var b strings.Builder
	for _, m := range c.Members {
		for _, l := range m.logLines() {
			b.WriteString(m.Name + ": " + l + "\n")
		}
	}
	return b.String()
}

// WaitReady waits until every running member that is not paused answers
// /health with a leader and a linearizable read — the cluster has quorum
// and the member has caught up enough to serve. Use it after Restart.
func (c *EtcdCluster) WaitReady(ctx context.Context) error {
	for _, m := range c.Members {
		for {
			if !m.Running() {
				if m.exitedEarly() {
					return fmt.Errorf("etcd member %s exited: %s", m.Name, m.lastLines(5))
				}
				break
			}
			if m.isPaused() {
				break
			}
			err := c.health(ctx, m)
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("etcd member %s not healthy: %w (last: %v)", m.Name, ctx.Err(), err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// health is etcd's /health: it exists in every etcd since 3.3 (so Debian's
// 3.4 works too), unlike /readyz (3.6+).
func (c *EtcdCluster) health(ctx context.Context, m *EtcdMember) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.ClientURL+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var h struct {
		Health string `json:"health"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &h) != nil || h.Health != "true" {
		return fmt.Errorf("/health %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

// Leader returns the member that the running members report as the raft
// leader, asking through the gRPC gateway so that this package needs no
// etcd client.
func (c *EtcdCluster) Leader(ctx context.Context) (*EtcdMember, error) {
	ids := map[string]*EtcdMember{}
	var leader string
	var errs []error
	for _, m := range c.Members {
		if !m.Running() || m.isPaused() {
			continue
		}
		st, err := c.status(ctx, m)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.Name, err))
			continue
		}
		ids[st.Header.MemberID] = m
		if st.Leader != "" && st.Leader != "0" {
			leader = st.Leader
		}
	}
	if m := ids[leader]; m != nil {
		return m, nil
	}
	return nil, fmt.Errorf("no running member is the etcd leader (leader id %q): %w", leader, errors.Join(errs...))
}

type etcdStatus struct {
	Header struct {
		MemberID string `json:"member_id"`
	} `json:"header"`
	Leader string `json:"leader"`
}

func (c *EtcdCluster) status(ctx context.Context, m *EtcdMember) (etcdStatus, error) {
	var st etcdStatus
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.ClientURL+"/v3/maintenance/status", strings.NewReader("{}"))
	if err != nil {
		return st, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("status: %w: %s", err, body)
	}
	return st, nil
}

// start runs the member's process; the caller holds no lock.
func (m *EtcdMember) start() error {
	cmd := exec.Command(m.bin, m.args...)
	// etcd reads ETCD_* variables as flags: one left in the environment
	// (ETCD_DATA_DIR, ETCD_NAME…) would change or clash with these members.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", m.bin, err)
	}
	done := make(chan struct{})
	m.mu.Lock()
	m.cmd, m.done, m.paused, m.downed = cmd, done, false, false
	m.mu.Unlock()
	// Read to EOF before Wait, which closes the pipe and could drop the
	// last lines — the ones that say why a member died.
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			m.addLine(sc.Text())
		}
		io.Copy(io.Discard, stderr) // after a scan error, keep the child from blocking
		cmd.Wait()
		close(done)
	}()
	return nil
}

func (m *EtcdMember) addLine(line string) {
	if m.log != nil {
		m.log(m.Name, line)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.lines) < etcdLogLines {
		m.lines = append(m.lines, line)
		return
	}
	m.lines[m.next] = line
	m.next = (m.next + 1) % etcdLogLines
}

func (m *EtcdMember) logLines() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append(append([]string(nil), m.lines[m.next:]...), m.lines[:m.next]...)
}

func (m *EtcdMember) lastLines(n int) string {
	l := m.logLines()
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// Logs returns the member's kept log (its last lines, across restarts).
func (m *EtcdMember) Logs() string { return strings.Join(m.logLines(), "\n") }

func (m *EtcdMember) current() (*exec.Cmd, chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cmd, m.done
}

// Running reports whether the member's process is alive (paused counts).
func (m *EtcdMember) Running() bool {
	cmd, done := m.current()
	if cmd == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// exitedEarly reports a process that ended by itself, not by Stop or Kill.
func (m *EtcdMember) exitedEarly() bool {
	m.mu.Lock()
	downed := m.downed
	m.mu.Unlock()
	return !downed && !m.Running() && m.Pid() != 0
}

func (m *EtcdMember) setDowned() {
	m.mu.Lock()
	m.downed = true
	m.mu.Unlock()
}

func (m *EtcdMember) isPaused() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.paused
}

// Pid is the process id of the current process (0 before the first start).
func (m *EtcdMember) Pid() int {
	cmd, _ := m.current()
	if cmd == nil {
		return 0
	}
	return cmd.Process.Pid
}

// Stop sends SIGTERM (a clean shutdown) and waits up to 20 s, then SIGKILL.
func (m *EtcdMember) Stop() error {
	if !m.Running() {
		return nil
	}
	cmd, done := m.current()
	m.setDowned()
	cmd.Process.Signal(syscall.SIGTERM)
	m.Resume() // a stopped process handles SIGTERM only once continued
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		m.Kill()
		return fmt.Errorf("etcd member %s did not stop within 20s of SIGTERM; killed", m.Name)
	}
	// After a clean shutdown etcd raises SIGTERM again on itself with the
	// default action (pkg/osutil.HandleInterrupts), so "terminated by
	// SIGTERM" is its normal ending, not a crash.
	st := cmd.ProcessState
	if ws, ok := st.Sys().(syscall.WaitStatus); st.Success() || ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
		return nil
	}
	return fmt.Errorf("etcd member %s exited with %s: %s", m.Name, st, m.lastLines(5))
}

// Kill sends SIGKILL (a crash: no shutdown, whatever etcd had not fsync'd is
// lost) and waits for the process to be gone.
func (m *EtcdMember) Kill() {
	cmd, done := m.current()
	if cmd == nil {
		return
	}
	m.setDowned()
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	m.mu.Lock()
	m.paused = false
	m.mu.Unlock()
}

// Pause sends SIGSTOP and returns once the kernel reports the process
// stopped: the member holds its sockets but answers nothing, like a hung
// host or a network partition (peers time it out, clients' requests hang).
func (m *EtcdMember) Pause() error {
	return m.signalAndWaitState(syscall.SIGSTOP, true)
}

// Resume sends SIGCONT to a paused member.
func (m *EtcdMember) Resume() error {
	if !m.isPaused() {
		return nil
	}
	return m.signalAndWaitState(syscall.SIGCONT, false)
}

func (m *EtcdMember) signalAndWaitState(sig syscall.Signal, stopped bool) error {
	if !m.Running() {
		return fmt.Errorf("etcd member %s is not running", m.Name)
	}
	cmd, _ := m.current()
	m.mu.Lock()
	m.paused = stopped
	m.mu.Unlock()
	if err := signalAndWait(cmd.Process, sig, stopped); err != nil {
		return fmt.Errorf("etcd member %s: %w", m.Name, err)
	}
	return nil
}

// signalAndWait sends sig (SIGSTOP or SIGCONT) and waits until the kernel
// reports p stopped, or running again.
func signalAndWait(p *os.Process, sig syscall.Signal, stopped bool) error {
	if err := p.Signal(sig); err != nil {
		return err
	}
	stat := fmt.Sprintf("/proc/%d/stat", p.Pid)
	for i := 0; i < 200; i++ {
		b, err := os.ReadFile(stat)
		if err != nil {
			return err
		}
		// The state follows the parenthesised command name: "pid (etcd) T …".
		if j := bytes.LastIndexByte(b, ')'); j >= 0 && j+2 < len(b) {
			if s := b[j+2]; (s == 'T') == stopped {
				return nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("process %d did not change state after %s", p.Pid, sig)
}

// Restart starts a stopped or killed member again with the same name,
// addresses and data directory (etcd then ignores the --initial-* flags and
// rejoins from its WAL). It does not wait: a member serves clients only once
// it has rejoined a quorum, which may need another member restarted first;
// call the cluster's WaitReady.
func (m *EtcdMember) Restart() error {
	if m.Running() {
		return fmt.Errorf("etcd member %s is still running; Stop or Kill it first", m.Name)
	}
	return m.start()
}

// FindEtcd returns the etcd binary to run: $FAILOVER_ETCD_BIN if set, else
// the one `make tools` links into .tools/bin of the nearest enclosing
// checkout, else etcd on $PATH (e.g. Debian's etcd-server, the fallback).
func FindEtcd() (string, error) {
	if p := os.Getenv("FAILOVER_ETCD_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("FAILOVER_ETCD_BIN: %w", err)
		}
		return p, nil
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			p := filepath.Join(dir, ".tools", "bin", "etcd")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	if p, err := exec.LookPath("etcd"); err == nil {
		return p, nil
	}
	return "", errors.New("no etcd binary: run `make tools` (builds etcd into .tools/bin) or set FAILOVER_ETCD_BIN")
}

// EtcdRequired reports whether a missing etcd is a failure rather than a
// reason to skip: in CI (CI=true) and wherever FAILOVER_REQUIRE_ETCD=1,
// because there `make test` has run `make tools`, which builds it.
func EtcdRequired() bool {
	return os.Getenv("CI") == "true" || os.Getenv("FAILOVER_REQUIRE_ETCD") == "1"
}

// TB is the part of testing.TB that EtcdForTest needs (this package is also
// linked into the demo and the benchmarks, which do not import testing).
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// EtcdForTest returns the etcd binary for a test, or skips the test with the
// reason — or fails it where EtcdRequired says the binary must be present.
func EtcdForTest(t TB) string {
	t.Helper()
	bin, err := FindEtcd()
	if err != nil {
		if EtcdRequired() {
			t.Fatalf("%v (required here: CI=true or FAILOVER_REQUIRE_ETCD=1)", err)
		}
		t.Skipf("skipped: %v", err)
	}
	return bin
}
