# Active-passive, GTM style: dc1 serves; the cloud region takes over when
# dc1 has been down for 30 s, and traffic returns only after dc1 has been
# healthy for 5 minutes. Plan fails if the worst case exceeds the RTO.
resource "failover_traffic_policy" "web" {
  name                   = "web"
  mode                   = "active-passive"
  ttl_seconds            = 30
  failover_delay_seconds = 30
  failback_delay_seconds = 300
  when_all_down          = "fallback"
  rto_seconds            = 120
  replica_set            = failover_replica_set.orders.name

  targets = {
    dc1 = {
      site          = "dc1"
      addresses     = ["192.0.2.10", "192.0.2.11"]
      health_checks = [failover_health_check.dc1_web.name]
      priority      = 1
    }
    cloud = {
      site          = "aws-us-east-1"
      cname         = "web.us-east-1.example.net."
      health_checks = [failover_health_check.cloud_web.name]
      priority      = 2
    }
  }

  fallback = {
    addresses = ["203.0.113.50"] # the "we'll be right back" page
  }
}

# Active-active over three regions, weighted 50/30/20.
resource "failover_traffic_policy" "api" {
  name          = "api"
  mode          = "active-active"
  when_all_down = "fail_open"

  targets = {
    east    = { site = "east", addresses = ["192.0.2.20"], health_checks = ["api-east"], weight = 50 }
    central = { site = "central", addresses = ["198.51.100.20"], health_checks = ["api-central"], weight = 30 }
    west    = { site = "west", addresses = ["203.0.113.20"], health_checks = ["api-west"], weight = 20 }
  }
}

# Publish the decision where clients resolve: internal DNS by RFC 2136
# (the TSIG secret stays in failoverd's --tsig-keys file) and public DNS in
# Route 53 (credentials from failoverd's AWS default chain).
resource "failover_traffic_policy" "portal" {
  name          = "portal"
  mode          = "active-passive"
  ttl_seconds   = 30
  when_all_down = "fail_closed" # nothing serving: the published records are deleted

  targets = {
    dc1  = { site = "dc1", addresses = ["192.0.2.30"], health_checks = ["portal-dc1"], priority = 1 }
    aws1 = { site = "aws-eu-west-1", addresses = ["198.51.100.30"], health_checks = ["portal-aws"], priority = 2 }
  }

  publish = {
    rfc2136 = {
      server      = "10.0.0.53"
      zone        = "corp.example.internal"
      record_name = "portal.corp.example.internal"
      tsig_key    = "failover-update"
    }
    route53 = {
      zone_id     = "Z0123456789ABCDEFGHIJ"
      record_name = "portal.example.com"
    }
  }
}
