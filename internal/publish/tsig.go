package publish

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/miekg/dns"
)

// TSIGKey is one key of the --tsig-keys file.
type TSIGKey struct {
	// Name is the key's canonical (fully qualified, lower-case) name, as
	// it goes on the wire.
	Name string
	// Algorithm is the canonical algorithm name (dns.HmacSHA256...).
	Algorithm string
	// Secret is the base64 secret, as miekg/dns takes it.
	Secret string
}

// TSIGKeys are the keys of a --tsig-keys file by canonical name.
type TSIGKeys map[string]TSIGKey

// Lookup returns the key a publish block names.
func (k TSIGKeys) Lookup(name string) (TSIGKey, bool) {
	key, ok := k[strings.ToLower(dns.Fqdn(name))]
	return key, ok
}

// tsigAlgorithms are the algorithms a key may use, as the file names them.
// HMAC-MD5 is left out on purpose: it is broken and RFC 8945 deprecates it.
var tsigAlgorithms = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

// maxTSIGFile bounds the file (a key is a line of ~100 bytes).
const maxTSIGFile = 1 << 20

// tsigFileFormat is what every parse error ends with.
const tsigFileFormat = `each line is "<key-name> <algorithm> <base64-secret>", e.g. "failover-update hmac-sha256 c2VjcmV0LXNlY3JldC1zZWNyZXQ=" (the same key the DNS server's configuration holds; knot: keymgr -t failover-update hmac-sha256), '#' starts a comment`

// ParseTSIGKeys reads a --tsig-keys file. Every error names the line and
// the fix; the secrets never appear in one.
func ParseTSIGKeys(data []byte) (TSIGKeys, error) {
	if len(data) > maxTSIGFile {
		return nil, fmt.Errorf("%d bytes is more than a key file holds (at most %d): %s", len(data), maxTSIGFile, tsigFileFormat)
	}
	keys := TSIGKeys{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxTSIGFile)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d has %d fields, want 3: %s", n, len(f), tsigFileFormat)
		}
		name := strings.ToLower(dns.Fqdn(f[0]))
		if _, ok := dns.IsDomainName(name); !ok || len(name) > 254 || strings.ContainsAny(f[0], `\"();@$`) {
			return nil, fmt.Errorf("line %d: %q is not a key name (a DNS name such as failover-update): %s", n, f[0], tsigFileFormat)
		}
		alg, ok := tsigAlgorithms[strings.ToLower(strings.TrimSuffix(f[1], "."))]
		if !ok {
			return nil, fmt.Errorf("line %d: key %s: algorithm %q is not supported: use hmac-sha256 (or hmac-sha1, hmac-sha224, hmac-sha384, hmac-sha512)", n, f[0], f[1])
		}
		secret, err := base64.StdEncoding.DecodeString(f[2])
		if err != nil {
			return nil, fmt.Errorf("line %d: key %s: the secret is not base64: copy it exactly from the DNS server's key configuration", n, f[0])
		}
		if len(secret) < 16 {
			return nil, fmt.Errorf("line %d: key %s: the secret is %d bytes, want at least 16: generate one with `keymgr -t %s %s` or `tsig-keygen -a %s %s`", n, f[0], len(secret), f[0], f[1], f[1], f[0])
		}
		if _, dup := keys[name]; dup {
			return nil, fmt.Errorf("line %d: key %s is defined twice: keep one line per key", n, f[0])
		}
		keys[name] = TSIGKey{Name: name, Algorithm: alg, Secret: f[2]}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w: %s", err, tsigFileFormat)
	}
	return keys, nil
}

// LoadTSIGKeys reads and parses the --tsig-keys file at path.
func LoadTSIGKeys(path string) (TSIGKeys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--tsig-keys: %w", err)
	}
	keys, err := ParseTSIGKeys(data)
	if err != nil {
		return nil, fmt.Errorf("--tsig-keys %s: %w", path, err)
	}
	return keys, nil
}
