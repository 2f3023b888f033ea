package webhook

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func validHook() api.Webhook {
	return api.Webhook{Name: "oncall", URL: "https://hooks.example.net/failover?team=sre", Events: []string{"decision", "health"}, Secret: "pagerduty"}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*api.Webhook)
		errs map[string]string
	}{
		{"valid", func(*api.Webhook) {}, nil},
		{"every type", func(w *api.Webhook) { w.Events = nil }, nil},
		{"http", func(w *api.Webhook) { w.URL = "http://127.0.0.1:9000/hook" }, nil},
		{"missing", func(w *api.Webhook) { w.URL, w.Secret = "", "" }, map[string]string{"url": "is required", "secret": "is required"}},
		{"scheme", func(w *api.Webhook) { w.URL = "ftp://x.example/" }, map[string]string{"url": `scheme "ftp"`}},
		{"no host", func(w *api.Webhook) { w.URL = "https:///path" }, map[string]string{"url": "has no host"}},
		{"credentials", func(w *api.Webhook) { w.URL = "https://user:pass@x.example/" }, map[string]string{"url": "carries credentials"}},
		{"fragment", func(w *api.Webhook) { w.URL = "https://x.example/#a" }, map[string]string{"url": "fragment"}},
		{"unknown event", func(w *api.Webhook) { w.Events = []string{"decision", "decisions"} }, map[string]string{"events[1]": `"decisions" is not an event type`}},
		{"duplicate event", func(w *api.Webhook) { w.Events = []string{"audit", "audit"} }, map[string]string{"events[1]": "already events[0]"}},
		{"bad secret name", func(w *api.Webhook) { w.Secret = "my secret" }, map[string]string{"secret": "not a secret name"}},
		{"bad name", func(w *api.Webhook) { w.Name = "On_Call" }, map[string]string{"name": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := validHook()
			tc.edit(&w)
			got := map[string]string{}
			for _, p := range Validate(w).Errors() {
				got[p.Field] = p.Detail
			}
			if len(got) != len(tc.errs) {
				t.Fatalf("errors %v, want %v", got, tc.errs)
			}
			for f, want := range tc.errs {
				if d, ok := got[f]; !ok || !strings.Contains(d, want) {
					t.Errorf("%s: %q, want %q", f, d, want)
				}
			}
			if strings.Contains(strings.Join(mapValues(got), " "), "pass@") {
				t.Error("a problem shows the URL's password")
			}
		})
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func FuzzValidate(f *testing.F) {
	b, _ := json.Marshal(validHook())
	f.Add(b)
	f.Add([]byte(`{"name":"x","url":"http://[::1]:80/%zz","events":["",""],"secret":"-"}`))
	f.Add([]byte(`{"url":"https://a:b@c/#d"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var w api.Webhook
		if json.Unmarshal(data, &w) != nil {
			return
		}
		ps := Validate(w)
		for _, p := range ps {
			if _, err := api.ParsePath(p.Field); err != nil || len(p.Detail) < 10 {
				t.Fatalf("problem %+v: unparsable field or no detail", p)
			}
		}
		if !reflect.DeepEqual(ps, Validate(w)) {
			t.Fatal("not deterministic")
		}
	})
}

func TestParseSecrets(t *testing.T) {
	long := strings.Repeat("s", 40)
	tests := []struct {
		name, file string
		want       []string
		err        string
	}{
		{"ok", "# comment\n\npagerduty " + long + "\nslack " + long + "x\n", []string{"pagerduty", "slack"}, ""},
		{"fields", "pagerduty", nil, "line 1 has 1 fields, want 2"},
		{"short", "p short", nil, "want at least 32"},
		{"name", "p/q " + long, nil, "not a secret name"},
		{"dup", "p " + long + "\np " + long, nil, "line 2: secret p is defined twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSecrets([]byte(tc.file))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), long) {
					t.Fatal("error shows the secret")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tc.want {
				if len(s[n]) < MinSecretBytes {
					t.Errorf("secret %s missing", n)
				}
			}
		})
	}
}

func FuzzParseSecrets(f *testing.F) {
	f.Add([]byte("pagerduty " + strings.Repeat("s", 40) + "\n"))
	f.Add([]byte("#\n a b c\n"))
	f.Add([]byte("\xff\xfe " + strings.Repeat("\x00", 40)))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSecrets(data)
		if err != nil {
			return
		}
		for n, v := range s {
			if !secretNameRE.MatchString(n) || len(v) < MinSecretBytes {
				t.Fatalf("accepted %q → %d bytes", n, len(v))
			}
		}
	})
}

// TestSignVerify: what Sign produces verifies; a tampered body, another
// secret, an old timestamp or a mangled header does not.
func TestSignVerify(t *testing.T) {
	secret := []byte(strings.Repeat("k", 32))
	body := []byte(`{"seq":42,"type":"decision"}`)
	now := time.Unix(1_800_000_000, 0)
	h := Sign(secret, now, body)
	if !strings.HasPrefix(h, "t=1800000000,v1=") || len(h) != len("t=1800000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		at     time.Time
		want   error
	}{
		{"valid", secret, h, body, now.Add(time.Minute), nil},
		{"rotation: second v1 matches", secret, "t=1800000000,v1=" + strings.Repeat("0", 64) + "," + h[len("t=1800000000,"):], body, now, nil},
		{"tampered body", secret, h, []byte(`{"seq":42,"type":"decisioN"}`), now, ErrBadSignature},
		{"other secret", []byte(strings.Repeat("x", 32)), h, body, now, ErrBadSignature},
		{"replayed later", secret, h, body, now.Add(6 * time.Minute), ErrTooOld},
		{"from the future", secret, h, body, now.Add(-6 * time.Minute), ErrTooOld},
		{"no header", secret, "", body, now, ErrNoSignature},
		{"no v1", secret, "t=1800000000", body, now, ErrNoSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.header, tc.body, DefaultTolerance, tc.at)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("t=1,v1=00", []byte("{}"))
	f.Add("t=-9223372036854775808,v1=,v1", []byte(""))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		// Must never panic, and never accept what it did not sign.
		if Verify([]byte("k"), header, body, DefaultTolerance, time.Now()) == nil && !strings.Contains(header, mac([]byte("k"), strings.TrimPrefix(strings.Split(header, ",")[0], "t="), body)) {
			t.Fatalf("accepted %q", header)
		}
	})
}
