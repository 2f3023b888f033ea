package publish

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseTSIGKeys(t *testing.T) {
	const secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
	tests := []struct {
		name, file string
		keys       map[string]string // canonical name → algorithm
		err        string
	}{
		{"empty", "", map[string]string{}, ""},
		{"comments and blanks", "# keys\n\n  failover-update hmac-sha256 " + secret + "  # the knot key\n", map[string]string{"failover-update.": dns.HmacSHA256}, ""},
		{"case and dot", "Failover.Example. HMAC-SHA512. " + secret, map[string]string{"failover.example.": dns.HmacSHA512}, ""},
		{"two keys", "a hmac-sha256 " + secret + "\nb hmac-sha1 " + secret, map[string]string{"a.": dns.HmacSHA256, "b.": dns.HmacSHA1}, ""},
		{"fields", "a hmac-sha256", nil, "line 1 has 2 fields, want 3"},
		{"md5 refused", "a hmac-md5 " + secret, nil, `algorithm "hmac-md5" is not supported`},
		{"not base64", "\nkey hmac-sha256 not*base64", nil, "line 2: key key: the secret is not base64"},
		{"short secret", "key hmac-sha256 c2hvcnQ=", nil, "the secret is 5 bytes, want at least 16"},
		{"duplicate", "k hmac-sha256 " + secret + "\nK. hmac-sha256 " + secret, nil, "line 2: key K. is defined twice"},
		{"bad name", `k"ey hmac-sha256 ` + secret, nil, "is not a key name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParseTSIGKeys([]byte(tc.file))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("the error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != len(tc.keys) {
				t.Fatalf("keys %v, want %v", keys, tc.keys)
			}
			for n, alg := range tc.keys {
				k, ok := keys.Lookup(strings.TrimSuffix(n, "."))
				if !ok || k.Algorithm != alg || k.Secret != secret {
					t.Errorf("key %s = %+v, %t; want algorithm %s", n, k, ok, alg)
				}
			}
		})
	}
}

func FuzzParseTSIGKeys(f *testing.F) {
	f.Add([]byte("failover-update hmac-sha256 c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=\n"))
	f.Add([]byte("# c\n\na b c d\n"))
	f.Add([]byte("\x00 hmac-sha1 ===="))
	f.Add([]byte(strings.Repeat("x", 70000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseTSIGKeys(data)
		if err != nil {
			return
		}
		for n, k := range keys {
			if n != k.Name || !dns.IsFqdn(n) || k.Algorithm == "" || k.Secret == "" {
				t.Fatalf("accepted a key it cannot use: %+v", k)
			}
			if _, ok := keys.Lookup(n); !ok {
				t.Fatalf("key %q does not look itself up", n)
			}
		}
	})
}
