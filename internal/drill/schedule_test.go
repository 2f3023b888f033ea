package drill

import (
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestDue(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	win := []string{"2026-12-12T03:00:00Z/2026-12-12T03:30:00Z"}
	for _, tc := range []struct {
		name       string
		s          api.DrillSchedule
		after, now string
		hold       time.Duration
		due        bool
	}{
		{"cron due", api.DrillSchedule{Cron: "0 3 * * *", HoldSeconds: 60}, "2026-12-12T02:59:59Z", "2026-12-12T03:00:00Z", time.Minute, true},
		{"cron default hold", api.DrillSchedule{Cron: "0 3 * * *"}, "2026-12-12T02:59:59Z", "2026-12-12T03:00:01Z", 10 * time.Minute, true},
		{"cron not yet", api.DrillSchedule{Cron: "0 3 * * *"}, "2026-12-12T02:58:00Z", "2026-12-12T02:59:59Z", 0, false},
		{"cron handled by the previous look", api.DrillSchedule{Cron: "0 3 * * *"}, "2026-12-12T03:00:00Z", "2026-12-12T03:00:01Z", 0, false},
		{"window starts", api.DrillSchedule{Windows: win}, "2026-12-12T02:59:59Z", "2026-12-12T03:00:00Z", 30 * time.Minute, true},
		{"window started a little ago", api.DrillSchedule{Windows: win}, "2026-12-12T02:59:59Z", "2026-12-12T03:10:00Z", 20 * time.Minute, true},
		{"window over", api.DrillSchedule{Windows: win}, "2026-12-12T02:59:59Z", "2026-12-12T03:30:00Z", 0, false},
		{"window started before the last look", api.DrillSchedule{Windows: win}, "2026-12-12T03:00:00Z", "2026-12-12T03:00:01Z", 0, false},
		{"bad cron never due", api.DrillSchedule{Cron: "nope"}, "2026-12-12T02:59:59Z", "2026-12-13T03:00:00Z", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hold, due := Due(tc.s, at(tc.after), at(tc.now))
			if due != tc.due || hold != tc.hold {
				t.Errorf("Due = %s %v, want %s %v", hold, due, tc.hold, tc.due)
			}
		})
	}
}
