package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDrillRequestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    DrillRequest
		hold   time.Duration
		fields []string
	}{
		{"defaults", DrillRequest{Target: "cloud"}, DefaultDrillHold, nil},
		{"hold", DrillRequest{Target: "cloud", Hold: "90s"}, 90 * time.Second, nil},
		{"zero hold", DrillRequest{Target: "cloud", Hold: "0s"}, 0, nil},
		{"no target", DrillRequest{}, DefaultDrillHold, []string{"target"}},
		{"bad hold", DrillRequest{Target: "x", Hold: "soon"}, 0, []string{"hold"}},
		{"negative hold", DrillRequest{Target: "x", Hold: "-1m"}, -time.Minute, []string{"hold"}},
		{"long hold", DrillRequest{Target: "x", Hold: "25h"}, 25 * time.Hour, []string{"hold"}},
		{"long reason", DrillRequest{Target: "x", Reason: strings.Repeat("r", 1025)}, DefaultDrillHold, []string{"reason"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hold, p := tc.req.Validate()
			var got []string
			for _, e := range p {
				got = append(got, e.Field)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields %v, want %v (%v)", got, tc.fields, p)
			}
			if len(tc.fields) == 0 && hold != tc.hold {
				t.Errorf("hold %s, want %s", hold, tc.hold)
			}
		})
	}
}

// FuzzDrillRequest: any body decodes or is refused, and a request that
// validates has a hold within bounds.
func FuzzDrillRequest(f *testing.F) {
	for _, s := range []string{`{"target":"cloud"}`, `{"target":"cloud","hold":"10m","reason":"game day"}`,
		`{"hold":"-5s"}`, `{"hold":"9999999h"}`, `{"hold":"1e9h"}`, `{"target":""}`, `{}`, `null`, `{"hold":"1h1m1s1ms"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var r DrillRequest
		if json.Unmarshal([]byte(body), &r) != nil {
			return
		}
		hold, p := r.Validate()
		if len(p) == 0 && (hold < 0 || hold > MaxDrillHold || r.Target == "") {
			t.Fatalf("%q validated with hold %s target %q", body, hold, r.Target)
		}
		for _, e := range p {
			if e.Field == "" || e.Detail == "" {
				t.Fatalf("problem without field or detail: %+v", e)
			}
		}
	})
}
