package client

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSplitEndpoints(t *testing.T) {
	tests := []struct {
		in     string
		want   []string
		index  int // of the bad entry, from 0; -1 for a whole-list error
		errHas []string
		not    string // a one-entry list is not called a list
	}{
		{in: "http://127.0.0.1:8080", want: []string{"http://127.0.0.1:8080"}},
		{in: "http://10.0.1.5:8080/, https://failover.example.org/api/ ,http://[2001:db8::1]:8080",
			want: []string{"http://10.0.1.5:8080", "https://failover.example.org/api", "http://[2001:db8::1]:8080"}},
		{in: "", index: -1, errHas: []string{"empty", "at least one"}},
		{in: "  ", index: -1, errHas: []string{"empty"}},
		{in: "http://a.example.org,", index: 1, errHas: []string{"endpoint 2 of 2", "empty", "extra comma"}},
		{in: "http://a.example.org,,http://b.example.org", index: 1, errHas: []string{"endpoint 2 of 3", "empty"}},
		{in: "http://a.example.org,127.0.0.1:8080", index: 1, errHas: []string{"endpoint 2 of 2", `did you mean "http://127.0.0.1:8080"`}},
		{in: "http://a.example.org, http://a.example.org/", index: 1, errHas: []string{"http://a.example.org is already endpoint 1", "once"}},
		{in: "ftp://a.example.org", index: 0, errHas: []string{"http:// or https://"}, not: "endpoint 1 of"},
		{in: "http://ops:hunter2@a.example.org", index: 0, errHas: []string{"must not contain credentials"}},
		{in: "http://ops:hunter2@a example.org", index: 0, errHas: []string{"invalid failoverd endpoint"}},
		{in: "ops:hunter2@a.example.org:8080", index: 0, errHas: []string{"did you mean"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := SplitEndpoints(tc.in)
			if tc.errHas == nil {
				if err != nil || !slices.Equal(got, tc.want) {
					t.Fatalf("SplitEndpoints(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("SplitEndpoints(%q) = %q, want an error", tc.in, got)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if tc.not != "" && strings.Contains(err.Error(), tc.not) {
				t.Errorf("error %q contains %q", err, tc.not)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks the password", err)
			}
			var ee *EndpointError
			switch {
			case tc.index < 0 && errors.As(err, &ee):
				t.Errorf("error names entry %d, want a whole-list error", ee.Index)
			case tc.index >= 0 && (!errors.As(err, &ee) || ee.Index != tc.index):
				t.Errorf("error %v does not name entry %d", err, tc.index)
			}
		})
	}
}

func TestNewEndpoints(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		want   []string
		errHas string
	}{
		{"default", Config{}, []string{DefaultEndpoint}, ""},
		{"list", Config{Endpoints: []string{"http://127.0.0.1:8081/", "http://127.0.0.1:8082"}}, []string{"http://127.0.0.1:8081", "http://127.0.0.1:8082"}, ""},
		{"both", Config{Endpoint: "http://127.0.0.1:8081", Endpoints: []string{"http://127.0.0.1:8082"}}, nil, "set one of them"},
		{"a list in Endpoint", Config{Endpoint: "http://127.0.0.1:8081,http://127.0.0.1:8082"}, nil, "separate them with commas in FAILOVER_ENDPOINT"},
		{"duplicate", Config{Endpoints: []string{"http://127.0.0.1:8081", "http://127.0.0.1:8081/"}}, nil, "already endpoint 1"},
		{"empty entry", Config{Endpoints: []string{"http://127.0.0.1:8081", ""}}, nil, "endpoint 2 of 2: it is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("New(%v) = %v, want an error containing %q", tc.cfg, err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Endpoints(); !slices.Equal(got, tc.want) {
				t.Errorf("Endpoints() = %q, want %q", got, tc.want)
			}
			if c.Endpoint() != tc.want[0] {
				t.Errorf("Endpoint() = %q before any call, want the first, %q", c.Endpoint(), tc.want[0])
			}
		})
	}
}

// FuzzSplitEndpoints: any input either yields a list of valid, distinct,
// normalised endpoints that reads back the same, or an error that is one
// line and names the bad entry when there are several.
func FuzzSplitEndpoints(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:8080",
		"http://10.0.1.5:8080/, https://failover.example.org/api/",
		"http://a.example.org,,", ",", " , ",
		"https://[2001:db8::1]:8443/x//",
		"http://u:p@h", "http://h?x=1", "http://h#f", "http://h/%2F",
		"127.0.0.1:8080", "HTTP://EXAMPLE.ORG", "http://h\n,http://i",
		"http://a.example.org,http://a.example.org/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := SplitEndpoints(s)
		if err != nil {
			if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\n\r") && !strings.ContainsAny(s, "\n\r") {
				t.Fatalf("error for %q is empty or spans lines: %q", s, msg)
			}
			var ee *EndpointError
			if errors.As(err, &ee) && (ee.Index < 0 || ee.Index > strings.Count(s, ",")) {
				t.Fatalf("error for %q names entry %d of %d", s, ee.Index, strings.Count(s, ",")+1)
			}
			return
		}
		if len(got) == 0 || len(got) != strings.Count(s, ",")+1 {
			t.Fatalf("SplitEndpoints(%q) = %q: an entry was lost or invented", s, got)
		}
		seen := map[string]bool{}
		for _, e := range got {
			if seen[e] {
				t.Fatalf("SplitEndpoints(%q) = %q lists %q twice", s, got, e)
			}
			seen[e] = true
			if again, err := ParseEndpoint(e); err != nil || again != e {
				t.Fatalf("ParseEndpoint(%q) = %q, %v: normalising is not idempotent", e, again, err)
			}
			if !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") || strings.HasSuffix(e, "/") {
				t.Fatalf("endpoint %q is not a normalised http(s) base URL", e)
			}
		}
		back, err := SplitEndpoints(strings.Join(got, ","))
		if err != nil || !slices.Equal(back, got) {
			t.Fatalf("the list %q does not read back: %q, %v", got, back, err)
		}
		if _, err := New(Config{Endpoints: got}); err != nil {
			t.Fatalf("New refuses what SplitEndpoints accepted (%q): %v", got, err)
		}
	})
}

func TestRedactUserinfo(t *testing.T) {
	for in, want := range map[string]string{
		"http://ops:hunter2@a example.org/x@y": "http://xxxxx@a example.org/x@y",
		"ops:hunter2@host:1":                   "xxxxx@host:1",
		"http://host/p@th":                     "http://host/p@th",
		"no userinfo":                          "no userinfo",
	} {
		if got := redactUserinfo(in); got != want {
			t.Errorf("redactUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}
