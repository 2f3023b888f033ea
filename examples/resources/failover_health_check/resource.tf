# The on-prem data center's web tier, probed every 5 s: unhealthy after
# 3 failed probes (at most 3 × 5 + 2 = 17 s after it dies).
resource "failover_health_check" "dc1_web" {
  name             = "web-dc1"
  site             = "dc1"
  type             = "https"
  address          = "192.0.2.10:443"
  path             = "/healthz"
  host_header      = "www.example.org"
  expected_status  = ["200"]
  interval_seconds = 5
  timeout_seconds  = 2
  rise             = 2
  fall             = 3

  tls = {
    server_name = "www.example.org"
  }
}

# The DR site's load balancer only serves while its burst toggle is
# engaged: "exact" matters, because "no-burst" contains "burst".
resource "failover_health_check" "dr_burst" {
  name    = "web-dr-burst"
  site    = "dr"
  type    = "http"
  address = "198.51.100.20:80"
  path    = "/burst.html"

  body_match = {
    mode  = "exact"
    value = "burst"
  }
}
