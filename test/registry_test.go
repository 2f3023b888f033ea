package test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/terraform"
)

// TestModuleRegistry serves the repository's modules/ tree through the
// module registry protocol (service discovery, versions, download) from an
// HTTPS server on 127.0.0.1 with a test CA, and consumes the active-passive
// module by registry address with a version constraint: init downloads it
// (the provider comes from a filesystem mirror of the built binary, so
// nothing is fetched from the internet) and plan succeeds. Once per CLI.
func TestModuleRegistry(t *testing.T) {
	t.Parallel()
	caFile, srv, reg := startModuleRegistry(t)
	// The registry host is 127.0.0.1:PORT: both CLIs reject
	// "localhost:PORT" ("invalid module registry hostname: must contain at
	// least one dot") and no dotted name resolves to loopback offline; an
	// IP literal passes, and the certificate carries it as an IP SAN.
	host := strings.TrimPrefix(srv.URL, "https://")
	if !strings.HasPrefix(host, "127.0.0.1:") {
		t.Fatalf("registry listens on %s, want 127.0.0.1", srv.URL)
	}

	for name, cli := range map[string]string{"terraform": terraformCL, "tofu": tofuCLI} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := startFailoverd(t)
			dir := t.TempDir()
			// The hybrid example, with the module from the registry instead
			// of ../../modules.
			src := filepath.Join(repoRoot, "examples", hybrid.example)
			if err := copyTree(src, dir); err != nil {
				t.Fatal(err)
			}
			mainTF := filepath.Join(dir, "main.tf")
			b, err := os.ReadFile(mainTF)
			if err != nil {
				t.Fatal(err)
			}
			local := `source = "../../modules/active-passive"`
			if !bytes.Contains(b, []byte(local)) {
				t.Fatalf("%s: no %s to replace", mainTF, local)
			}
			b = bytes.Replace(b, []byte(local), []byte(fmt.Sprintf(
				"source  = %q\n  version = \"~> 0.1\"", host+"/hatopo/ha-topology/failover//modules/active-passive")), 1)
			if err := os.WriteFile(mainTF, b, 0o644); err != nil {
				t.Fatal(err)
			}

			opts := tfOptions(cli, dir, "dev", f, nil)
			opts.EnvVars["TF_CLI_CONFIG_FILE"] = mirrorTfrc(t)
			opts.EnvVars["SSL_CERT_FILE"] = caFile
			opts.EnvVars["TF_DATA_DIR"] = filepath.Join(t.TempDir(), "data")

			terraform.Init(t, opts)
			if _, err := os.Stat(filepath.Join(opts.EnvVars["TF_DATA_DIR"], "modules", "payments", "modules", "active-passive", "main.tf")); err != nil {
				t.Errorf("init did not install the module from the registry: %v", err)
			}
			if plan := terraform.Plan(t, opts); !strings.Contains(plan, "to add") {
				t.Errorf("plan does not create the module's resources:\n%s", plan)
			}
			for _, p := range []string{
				"/.well-known/terraform.json",
				"/v1/modules/hatopo/ha-topology/failover/versions",
				"/v1/modules/hatopo/ha-topology/failover/0.1.0/download",
				"/archive/modules-0.1.0.tar.gz",
			} {
				if reg.hits(p) == 0 {
					t.Errorf("the registry never served %s", p)
				}
			}
		})
	}
}

type registryLog struct {
	mu   sync.Mutex
	seen map[string]int
}

func (r *registryLog) hit(p string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[p]++
}

func (r *registryLog) hits(p string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[p]
}

// startModuleRegistry starts the registry and returns the CA file the CLI
// must trust (SSL_CERT_FILE), the server and its request log.
func startModuleRegistry(t *testing.T) (string, *httptest.Server, *registryLog) {
	t.Helper()
	archive := modulesArchive(t)
	reg := &registryLog{seen: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/terraform.json", func(w http.ResponseWriter, r *http.Request) {
		reg.hit(r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"modules.v1":"/v1/modules/"}`)
	})
	mux.HandleFunc("GET /v1/modules/hatopo/ha-topology/failover/versions", func(w http.ResponseWriter, r *http.Request) {
		reg.hit(r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"modules":[{"versions":[{"version":"0.1.0"}]}]}`)
	})
	mux.HandleFunc("GET /v1/modules/hatopo/ha-topology/failover/0.1.0/download", func(w http.ResponseWriter, r *http.Request) {
		reg.hit(r.URL.Path)
		w.Header().Set("X-Terraform-Get", "https://"+r.Host+"/archive/modules-0.1.0.tar.gz")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /archive/modules-0.1.0.tar.gz", func(w http.ResponseWriter, r *http.Request) {
		reg.hit(r.URL.Path)
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(archive)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Logf("registry: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})

	caPEM, cert := testCertificate(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS() // 127.0.0.1:0
	t.Cleanup(srv.Close)
	return caFile, srv, reg
}

// modulesArchive is a tar.gz of the repository's modules/ tree (test
// directories included: the archive is what a release would publish).
func modulesArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(filepath.Join(repoRoot, "modules"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(repoRoot, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = gz.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testCertificate makes a throwaway CA and a server certificate it signs
// for localhost and 127.0.0.1; it returns the CA as PEM.
func testCertificate(t *testing.T) ([]byte, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "failover terratest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}

// mirrorTfrc is a CLI config whose only provider source is a filesystem
// mirror holding the built provider as hatopo/failover 0.1.0, under both
// registries' hostnames: `init` resolves it without the network (with
// dev_overrides alone, init would still ask the public registry).
func mirrorTfrc(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mirror := filepath.Join(dir, "mirror")
	for _, h := range []string{"registry.terraform.io", "registry.opentofu.org"} {
		d := filepath.Join(mirror, h, "hatopo", "failover", "0.1.0", "linux_amd64")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(binDir, "terraform-provider-failover"), filepath.Join(d, "terraform-provider-failover_v0.1.0")); err != nil {
			t.Fatal(err)
		}
	}
	rc := filepath.Join(dir, "mirror.tfrc")
	cfg := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"hatopo/failover\"]\n  }\n}\n", mirror)
	if err := os.WriteFile(rc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return rc
}
