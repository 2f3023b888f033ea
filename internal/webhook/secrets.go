package webhook

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// Secrets are the signing secrets of --webhook-secrets by name.
type Secrets map[string][]byte

// MinSecretBytes is the shortest secret accepted: HMAC-SHA256 keys
// shorter than the hash's 32 bytes weaken it.
const MinSecretBytes = 32

const maxSecretsFile = 1 << 20

const secretsFileFormat = `each line is "<name> <secret>", e.g. "pagerduty 3f9a…" (at least 32 characters, e.g. from: openssl rand -hex 32), '#' starts a comment; a webhook's secret attribute names one`

// ParseSecrets reads a --webhook-secrets file. Errors name the line and
// never show a secret.
func ParseSecrets(data []byte) (Secrets, error) {
	if len(data) > maxSecretsFile {
		return nil, fmt.Errorf("%d bytes is more than a secrets file holds (at most %d): %s", len(data), maxSecretsFile, secretsFileFormat)
	}
	out := Secrets{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxSecretsFile)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d has %d fields, want 2: %s", n, len(f), secretsFileFormat)
		}
		if !secretNameRE.MatchString(f[0]) {
			return nil, fmt.Errorf("line %d: %q is not a secret name (1 to 64 letters, digits, '_', '.' or '-'): %s", n, f[0], secretsFileFormat)
		}
		if len(f[1]) < MinSecretBytes {
			return nil, fmt.Errorf("line %d: secret %s is %d characters, want at least %d: generate one with openssl rand -hex 32", n, f[0], len(f[1]), MinSecretBytes)
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("line %d: secret %s is defined twice: keep one line per secret", n, f[0])
		}
		out[f[0]] = []byte(f[1])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w: %s", err, secretsFileFormat)
	}
	return out, nil
}

// LoadSecrets reads and parses the --webhook-secrets file at path.
func LoadSecrets(path string) (Secrets, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--webhook-secrets: %w", err)
	}
	s, err := ParseSecrets(data)
	if err != nil {
		return nil, fmt.Errorf("--webhook-secrets %s: %w", path, err)
	}
	return s, nil
}
