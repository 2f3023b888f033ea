package policy

import (
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestValidateDrillSchedule(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    api.DrillSchedule
		errs map[string]string // field → substring; no other error
	}{
		{"cron", api.DrillSchedule{Target: "aws", Cron: "0 3 * * 2", HoldSeconds: 900, Reason: "monthly game day"}, nil},
		{"windows", api.DrillSchedule{Target: "aws", Windows: []string{"2026-12-12T03:00:00Z/2026-12-12T03:30:00Z"}}, nil},
		{"no target", api.DrillSchedule{Cron: "0 3 * * 2"}, map[string]string{"drill_schedule.target": "is required"}},
		{"unknown target", api.DrillSchedule{Target: "mars", Cron: "0 3 * * 2"}, map[string]string{"drill_schedule.target": `"mars" is not a target`}},
		{"neither", api.DrillSchedule{Target: "aws"}, map[string]string{"drill_schedule": "needs cron"}},
		{"both", api.DrillSchedule{Target: "aws", Cron: "0 3 * * 2", Windows: []string{"2026-12-12T03:00:00Z/2026-12-12T03:30:00Z"}},
			map[string]string{"drill_schedule": "sets both cron and windows"}},
		{"bad cron", api.DrillSchedule{Target: "aws", Cron: "0 25 * * *"}, map[string]string{"drill_schedule.cron": "hour"}},
		{"bad window", api.DrillSchedule{Target: "aws", Windows: []string{"2026-12-12T03:00:00Z/2026-12-12T03:30:00Z", "tomorrow"}},
			map[string]string{"drill_schedule.windows[1]": "not a window"}},
		{"hold with windows", api.DrillSchedule{Target: "aws", HoldSeconds: 60, Windows: []string{"2026-12-12T03:00:00Z/2026-12-12T03:30:00Z"}},
			map[string]string{"drill_schedule.hold_seconds": "set by each window's end"}},
		{"hold too long", api.DrillSchedule{Target: "aws", Cron: "0 3 * * 2", HoldSeconds: 86401}, map[string]string{"drill_schedule.hold_seconds": "between 0 and 86400"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validPolicy()
			s := tc.s
			p.DrillSchedule = &s
			got := map[string]string{}
			for _, e := range Validate(p).Errors() {
				got[e.Field] = e.Detail
			}
			for f, want := range tc.errs {
				if !strings.Contains(got[f], want) {
					t.Errorf("%s: %q, want %q", f, got[f], want)
				}
				delete(got, f)
			}
			if len(got) > 0 {
				t.Errorf("unexpected errors: %v", got)
			}
		})
	}
}
