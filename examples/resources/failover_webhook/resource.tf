# Page the on-call team on every decision and publication problem. The
# signing secret stays in failoverd's --webhook-secrets file, e.g. a line
#   pagerduty 9f2c0b6e...   (openssl rand -hex 32)
# and the receiver verifies Failover-Signature: t=<unix>,v1=<hex>, where
# v1 = HMAC-SHA256(secret, "<t>.<raw body>"), rejecting a t older than a
# few minutes; it dedupes on Failover-Event-Id (delivery is at least once).
resource "failover_webhook" "oncall" {
  name   = "oncall"
  url    = "https://events.example.net/failover"
  events = ["decision", "publish"]
  secret = "pagerduty"
}
