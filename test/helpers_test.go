package test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/miekg/dns"
)

// Shared by every test, set up in TestMain.
var (
	repoRoot    string // /work/main
	binDir      string // failoverd, standin, terraform-provider-failover
	tfrcPath    string // dev_overrides CLI config pointing at binDir
	terraformCL string // Terraform 1.5.x
	tofuCLI     string // OpenTofu 1.8.x
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Dir(wd)
	terraformCL = filepath.Join(repoRoot, ".tools", "bin", "terraform")
	tofuCLI = filepath.Join(repoRoot, ".tools", "bin", "tofu")
	tmp, err := os.MkdirTemp("", "failover-terratest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	binDir = filepath.Join(tmp, "bin")
	// Build fresh binaries unless the caller says ../bin is current
	// (`make terratest` depends on `build` and sets FAILOVER_TEST_BIN).
	if dir := os.Getenv("FAILOVER_TEST_BIN"); dir != "" {
		binDir = dir
	} else {
		for _, b := range [][2]string{
			{"terraform-provider-failover", "."},
			{"failoverd", "./cmd/failoverd"},
			{"standin", "./cmd/standin"},
		} {
			cmd := exec.Command("go", "build", "-buildvcs=false", "-o", filepath.Join(binDir, b[0]), b[1])
			cmd.Dir = repoRoot
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", b[1], err, out)
				return 1
			}
		}
	}
	tfrcPath = filepath.Join(tmp, "dev.tfrc")
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"hatopo/failover\" = %q\n  }\n  direct {}\n}\n", binDir)
	if err := os.WriteFile(tfrcPath, []byte(rc), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// failoverd is one `failoverd serve --dev` child process.
type failoverd struct {
	URL, DNSAddr, Token string
	cmd                 *exec.Cmd
	mu                  sync.Mutex
	logs                []string
}

func startFailoverd(t *testing.T, extra ...string) *failoverd {
	t.Helper()
	f := &failoverd{Token: "terratest-" + strings.ReplaceAll(t.Name(), "/", "-")}
	cmd := exec.Command(filepath.Join(binDir, "failoverd"), append([]string{"serve", "--dev",
		"--http-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--log-format", "json"}, extra...)...)
	cmd.Env = append(os.Environ(), "FAILOVERD_DEV_TOKEN="+f.Token)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start failoverd: %v", err)
	}
	f.cmd = cmd
	type ready struct{ http, dns string }
	readyc := make(chan ready, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			f.mu.Lock()
			f.logs = append(f.logs, line)
			f.mu.Unlock()
			var rec struct {
				Msg  string `json:"msg"`
				HTTP string `json:"http"`
				DNS  string `json:"dns"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "failoverd ready" {
				select {
				case readyc <- ready{rec.HTTP, rec.DNS}:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		cmd.Wait()
		if t.Failed() {
			f.mu.Lock()
			t.Logf("failoverd log:\n%s", strings.Join(f.logs, "\n"))
			f.mu.Unlock()
		}
	})
	select {
	case r := <-readyc:
		f.URL, f.DNSAddr = "http://"+r.http, r.dns
	case <-done:
		t.Fatalf("failoverd exited before it was ready:\n%s", strings.Join(f.logs, "\n"))
	case <-time.After(20 * time.Second):
		t.Fatalf("failoverd not ready after 20s:\n%s", strings.Join(f.logs, "\n"))
	}
	return f
}

// api calls failoverd's HTTP API with the bearer token; out may be nil.
func (f *failoverd) api(method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, f.URL+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+f.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, nil
}

type servingTarget struct {
	Target    string   `json:"target"`
	Addresses []string `json:"addresses"`
	Weight    int      `json:"weight"`
}

type decision struct {
	Policy  string          `json:"policy"`
	Serving []servingTarget `json:"serving"`
	Reason  string          `json:"reason"`
}

func (f *failoverd) decision(policy string) (decision, error) {
	var d decision
	_, err := f.api(http.MethodGet, "/v1/traffic-policies/"+policy+"/decision", nil, &d)
	return d, err
}

// resolveA asks failoverd's DNS server for name's A records.
func (f *failoverd) resolveA(name string) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, f.DNSAddr)
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("%s: rcode %s", name, dns.RcodeToString[r.Rcode])
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out, nil
}

// backend is a stand-in site backend (cmd/standin).
type backend struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func startBackend(t *testing.T, site string) *backend {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "standin"), "--addr", "127.0.0.1:0", "--site", site)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &backend{cmd: cmd, done: make(chan struct{})}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("standin %s did not start: %v", site, err)
	}
	b.Addr = strings.TrimSpace(line)
	go func() { io.Copy(io.Discard, out); cmd.Wait(); close(b.done) }()
	t.Cleanup(b.stop)
	return b
}

// stop kills the backend: connections to it are refused from then on.
func (b *backend) stop() {
	select {
	case <-b.done:
		return
	default:
	}
	b.cmd.Process.Kill()
	<-b.done
}

// copyConfig copies modules/ and examples/<example> into a temp dir laid out
// like the repository (examples reference ../../modules) and returns the
// example's copy.
func copyConfig(t *testing.T, example string) string {
	t.Helper()
	dst := t.TempDir()
	for _, d := range []string{"modules", filepath.Join("examples", example)} {
		if err := copyTree(filepath.Join(repoRoot, d), filepath.Join(dst, d)); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dst, "examples", example)
}

// copyTree copies src to dst, leaving out .terraform directories, state and
// lock files a developer may have left in the tree.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		name := d.Name()
		if d.IsDir() {
			if name == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if strings.HasPrefix(name, "terraform.tfstate") || name == ".terraform.lock.hcl" || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}

// tfOptions are the terratest options for one example run against f.
func tfOptions(cli, dir, env string, f *failoverd, vars map[string]any) *terraform.Options {
	return &terraform.Options{
		TerraformBinary:      cli,
		TerraformDir:         dir,
		VarFiles:             []string{filepath.Join("env", env+".tfvars")},
		Vars:                 vars,
		SetVarsAfterVarFiles: true,
		NoColor:              true,
		EnvVars: map[string]string{
			"TF_CLI_CONFIG_FILE": tfrcPath,
			"FAILOVER_ENDPOINT":  f.URL,
			"FAILOVER_TOKEN":     f.Token,
			"TF_IN_AUTOMATION":   "1",
			"CHECKPOINT_DISABLE": "1",
		},
	}
}
