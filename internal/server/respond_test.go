package server

import "testing"

func TestJSONFieldPath(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"interval_seconds":         "interval_seconds",
		"targets.dc-1.priority":    `targets["dc-1"].priority`,
		"members.db-3.tags.rack":   `members["db-3"].tags["rack"]`,
		"tls.insecure_skip_verify": "tls.insecure_skip_verify",
		"targets":                  "targets",
	} {
		if got := jsonFieldPath(in); got != want {
			t.Errorf("jsonFieldPath(%q) = %q, want %q", in, got, want)
		}
	}
}
