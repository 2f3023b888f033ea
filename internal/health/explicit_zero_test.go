package health

import (
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// An explicit zero where zero means "the default" is reported once, by
// NormalizeExplicit, with a fix that Validate accepts: the message and the
// rule cannot drift apart.
func TestExplicitZeros(t *testing.T) {
	tests := []struct {
		field string
		zero  func(c *api.HealthCheck)
		fixes []func(c *api.HealthCheck) // what the message says to set instead
	}{
		{"path", func(c *api.HealthCheck) { c.Path = "" }, []func(*api.HealthCheck){func(c *api.HealthCheck) { c.Path = "/healthz" }}},
		{"method", func(c *api.HealthCheck) { c.Method = "" }, []func(*api.HealthCheck){func(c *api.HealthCheck) { c.Method = "HEAD" }}},
		{"interval_seconds", func(c *api.HealthCheck) { c.IntervalSeconds = 0 }, []func(*api.HealthCheck){
			func(c *api.HealthCheck) { c.IntervalSeconds, c.TimeoutSeconds = 1, 0.5 }}},
		{"timeout_seconds", func(c *api.HealthCheck) { c.TimeoutSeconds = 0 }, []func(*api.HealthCheck){
			func(c *api.HealthCheck) { c.TimeoutSeconds = 0.5 }}},
		{"rise", func(c *api.HealthCheck) { c.Rise = 0 }, []func(*api.HealthCheck){
			func(c *api.HealthCheck) { c.Rise = 1 }, func(c *api.HealthCheck) { c.Rise = 100 }}},
		{"fall", func(c *api.HealthCheck) { c.Fall = 0 }, []func(*api.HealthCheck){
			func(c *api.HealthCheck) { c.Fall = 1 }, func(c *api.HealthCheck) { c.Fall = 100 }}},
		{"quorum", func(c *api.HealthCheck) { c.Quorum = "" }, []func(*api.HealthCheck){
			func(c *api.HealthCheck) { c.Quorum = api.QuorumAll }, func(c *api.HealthCheck) { c.Quorum = api.QuorumAny }}},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			c := validHTTPS()
			tt.zero(&c)
			probs := c.NormalizeExplicit(api.ExplicitZeros{tt.field: {}})
			if len(probs) != 1 || probs[0].Field != tt.field {
				t.Fatalf("NormalizeExplicit = %v, want one problem on %s", probs, tt.field)
			}
			if p := Validate(c).Errors(); len(p) != 0 {
				t.Errorf("after NormalizeExplicit, Validate reports %v again", p)
			}
			for _, fix := range tt.fixes {
				c := validHTTPS()
				fix(&c)
				if p := Validate(c).Errors(); len(p) != 0 {
					t.Errorf("the fix the message suggests is refused: %v", p)
				}
			}
		})
	}
}
