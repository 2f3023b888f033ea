# The DR site's load balancer health-checks the toggle's URL: 503
# "no-burst" keeps its pool out of production, 200 "burst" brings it in.
# Scheduled for the Black Friday weekend; operators can also flip it with
# `failoverd burst engage black-friday` — with `engaged` omitted here,
# Terraform never reverts their flip.
resource "failover_burst_toggle" "black_friday" {
  name = "black-friday"
  site = "dr"

  schedule = [
    { start = "2026-11-27T00:00:00Z", end = "2026-12-01T06:00:00Z" },
  ]
}

output "lb_health_check_url" {
  value = failover_burst_toggle.black_friday.url
}
