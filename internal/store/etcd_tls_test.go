package store_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/launch"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, file: filepath.Join(dir, name+".pem")}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// issue writes a certificate and key for the members' loopback addresses,
// good for serving and as a client, and returns their files.
func (ca *testCA) issue(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2), net.IPv4(127, 0, 0, 3)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	return certFile, keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestEtcdTLS: against members that serve TLS and require client
// certificates, the store connects with --etcd-ca/--etcd-cert/--etcd-key
// and is refused — with an error naming the TLS flags — without a client
// certificate, with a CA that did not sign the members, or over plain http.
func TestEtcdTLS(t *testing.T) {
	bin := launch.EtcdForTest(t)
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	memberCert, memberKey := ca.issue(t, dir, "member")
	clientCert, clientKey := ca.issue(t, dir, "client")
	other := newTestCA(t, dir, "other-ca")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := launch.StartEtcdCluster(ctx, launch.EtcdOptions{Bin: bin, Dir: filepath.Join(dir, "etcd"), Members: 1,
		TLS: &launch.EtcdTLS{CertFile: memberCert, KeyFile: memberKey, CAFile: ca.file}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	url := c.Members[0].ClientURL
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("member URL %s, want https", url)
	}

	s, err := store.OpenEtcd(ctx, store.EtcdOptions{Endpoints: []string{url}, CAFile: ca.file, CertFile: clientCert, KeyFile: clientKey, Prefix: testPrefix(t)})
	if err != nil {
		t.Fatalf("OpenEtcd over TLS: %v", err)
	}
	defer s.Close()
	if _, err := s.Commit(ctx, store.Batch{Puts: []store.KV{{Bucket: hc, Key: "web", Value: []byte("w")}}, Events: events("e")}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, hc, "web"); err != nil || string(got) != "w" {
		t.Fatalf("Get over TLS = (%q, %v)", got, err)
	}

	for _, tc := range []struct {
		name string
		opts store.EtcdOptions
	}{
		{name: "no client certificate", opts: store.EtcdOptions{Endpoints: []string{url}, CAFile: ca.file}},
		{name: "CA that did not sign the members", opts: store.EtcdOptions{Endpoints: []string{url}, CAFile: other.file, CertFile: clientCert, KeyFile: clientKey}},
		{name: "plain http", opts: store.EtcdOptions{Endpoints: []string{strings.Replace(url, "https://", "http://", 1)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.DialTimeout = 2 * time.Second
			s, err := store.OpenEtcd(ctx, tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("OpenEtcd succeeded")
			}
			if !strings.Contains(err.Error(), "TLS flags") {
				t.Fatalf("err = %v, want it to name the TLS flags", err)
			}
		})
	}
}
