data "failover_health_check_status" "dc1_web" {
  name = "web-dc1"
}

output "dc1_web_state" {
  value = data.failover_health_check_status.dc1_web.state # healthy, unhealthy or unknown
}
