# What the policy serves right now, and why.
data "failover_traffic_decision" "web" {
  name = "web"
}

output "web_serving" {
  value = [for s in data.failover_traffic_decision.web.serving : s.target]
}

output "web_reason" {
  value = data.failover_traffic_decision.web.reason
}
