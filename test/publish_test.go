package test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/miekg/dns"
)

const (
	knotKeyName   = "failover-update"
	knotKeySecret = "dGVycmF0ZXN0LXRlcnJhdGVzdC10ZXJyYXRlc3QtMTI="
)

// startKnot runs a real knotd (Debian package knot) as the primary of
// example.test on a free loopback port, accepting dynamic updates signed
// with knotKeyName; it is killed when the test ends. The test module
// cannot import the main module's internal/launch, which does the same
// for the Go tests.
func startKnot(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("knotd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no knotd (required in CI): apt-get install knot")
		}
		t.Skip("skipped: no knotd: apt-get install knot")
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := fmt.Sprintf(`server:
    listen: 127.0.0.1@%d
    rundir: "%[2]s"
database:
    storage: "%[2]s/db"
key:
  - id: %[3]s
    algorithm: hmac-sha256
    secret: %[4]s
acl:
  - id: update
    key: %[3]s
    action: update
zone:
  - domain: example.test.
    storage: "%[2]s"
    file: "zone.db"
    acl: update
    zonefile-sync: -1
`, port, dir, knotKeyName, knotKeySecret)
	os.MkdirAll(filepath.Join(dir, "db"), 0o700)
	os.WriteFile(filepath.Join(dir, "knot.conf"), []byte(conf), 0o600)
	os.WriteFile(filepath.Join(dir, "zone.db"), []byte("$ORIGIN example.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 900 604800 60\n@ NS ns\nns A 127.0.0.1\n"), 0o600)
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "knot.conf"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; ; i++ {
		m := new(dns.Msg)
		m.SetQuestion("example.test.", dns.TypeSOA)
		if r, err := dns.Exchange(m, addr); err == nil && len(r.Answer) > 0 {
			return addr
		}
		if i > 200 {
			t.Fatalf("knotd does not answer on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func knotA(addr, name string) []string {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, err := dns.Exchange(m, addr)
	if err != nil {
		return nil
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

func waitKnot(t *testing.T, addr, name string, want []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := knotA(addr, name)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("knot answers %s A %v after %s, want %v", name, got, within, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHybridActivePassivePublishesToKnot: the hybrid example in dev
// publishes its policy to a real knot by RFC 2136; once the primary
// site's backends stop, a query to knot — not to failoverd — shows the
// failover.
func TestHybridActivePassivePublishesToKnot(t *testing.T) {
	t.Parallel()
	knot := startKnot(t)
	keys := filepath.Join(t.TempDir(), "tsig.keys")
	if err := os.WriteFile(keys, []byte(knotKeyName+" hmac-sha256 "+knotKeySecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := startFailoverd(t, "--tsig-keys", keys)
	overrides := map[string]string{}
	var primary []*backend
	for _, e := range hybrid.endpoints["dev"] {
		b := startBackend(t, e.site())
		overrides[e.key] = b.Addr
		if e.site() == hybrid.primary {
			primary = append(primary, b)
		}
	}
	vars := map[string]any{
		"health_check_addresses": overrides,
		"publish": map[string]any{
			"rfc2136": map[string]any{"server": knot, "zone": "example.test", "record_name": "payments.example.test", "tsig_key": knotKeyName},
		},
	}
	opts := tfOptions(terraformCL, copyConfig(t, hybrid.example), "dev", f, vars)
	terraform.RunTerraformCommand(t, opts, "get")
	defer terraform.Destroy(t, opts)
	terraform.Apply(t, opts)

	waitKnot(t, knot, "payments.example.test", []string{"192.0.2.11", "192.0.2.12"}, 60*time.Second)
	for _, b := range primary {
		b.stop()
	}
	stopped := time.Now()
	waitKnot(t, knot, "payments.example.test", []string{"198.51.100.11", "198.51.100.12"}, 60*time.Second)
	t.Logf("knot answers the secondary site %s after the primary's backends stopped", time.Since(stopped).Round(time.Millisecond))
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Errorf("plan after the failover: exit code %d, want 0", code)
	}
}
