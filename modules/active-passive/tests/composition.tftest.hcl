# Composition of the active-passive module, asserted on the plan with the
# real provider (dev_overrides, see ../README.md): the provider computes
# worst_case_failover_seconds, site_loss and config_json at plan time, so no
# failoverd is needed and nothing is applied.

variables {
  name = "payments-test"
  sites = {
    chicago-dc = {
      kind   = "onprem"
      region = "chicago"
      role   = "primary"
      zones = {
        hall-a = {
          endpoints      = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }
          database_hosts = ["mongo-chi-a.example.org:27017"]
        }
        hall-b = {
          endpoints      = { web = { health_check_address = "127.0.0.1:18102", addresses = ["192.0.2.12"] } }
          database_hosts = ["mongo-chi-b.example.org:27017"]
        }
      }
    }
    aws-use1 = {
      kind   = "aws"
      region = "us-east-1"
      role   = "secondary"
      zones = {
        us-east-1a = {
          endpoints      = { web = { health_check_address = "127.0.0.1:18111", addresses = ["198.51.100.11"] } }
          database_hosts = ["mongo-use1-a.example.net:27017"]
        }
        us-east-1b = {
          endpoints      = { web = { health_check_address = "127.0.0.1:18112", addresses = ["198.51.100.12"] } }
          database_hosts = ["mongo-use1-b.example.net:27017"]
        }
      }
    }
    azure-scus = {
      kind   = "azure"
      region = "southcentralus"
      role   = "arbiter"
      zones = {
        "1" = { database_hosts = ["mongo-arb.example.com:27017"] }
      }
    }
  }
  health_check = {
    interval_seconds = 1
    timeout_seconds  = 0.5
    fall             = 2
  }
  ttl_seconds            = 5
  failover_delay_seconds = 0
}

run "two_sites_and_an_arbiter" {
  command = plan

  assert {
    condition     = toset(keys(output.health_checks)) == toset(["chicago-dc", "aws-use1"]) && alltrue([for checks in values(output.health_checks) : length(checks) == 2])
    error_message = "site-health must run once per data site (not for the arbiter), one check per zone endpoint."
  }

  assert {
    condition     = tolist(keys(failover_traffic_policy.this.targets)) == tolist(["aws-use1", "chicago-dc"]) && failover_traffic_policy.this.mode == "active-passive"
    error_message = "The policy must have one target per data site and no burst target without burst."
  }

  assert {
    condition     = failover_traffic_policy.this.targets["chicago-dc"].priority == 1 && failover_traffic_policy.this.targets["aws-use1"].priority == 2
    error_message = "The primary site must be priority 1 and the secondary priority 2."
  }

  assert {
    condition = (
      toset(keys(failover_traffic_policy.this.targets["chicago-dc"].endpoints)) == toset(["hall-a", "hall-b"]) &&
      tolist(failover_traffic_policy.this.targets["chicago-dc"].endpoints["hall-a"].health_checks) == tolist([output.health_checks["chicago-dc"]["hall-a/web"].name]) &&
      tolist(failover_traffic_policy.this.targets["chicago-dc"].endpoints["hall-b"].health_checks) == tolist([output.health_checks["chicago-dc"]["hall-b/web"].name]) &&
      failover_traffic_policy.this.targets["chicago-dc"].health_checks == null &&
      failover_traffic_policy.this.targets["chicago-dc"].min_healthy == 1
    )
    error_message = "A site's target must have one endpoint per zone, each gated by that zone's checks, so losing one zone does not move the site."
  }

  assert {
    condition = (
      failover_traffic_policy.this.targets["aws-use1"].addresses == null &&
      tolist(failover_traffic_policy.this.targets["aws-use1"].endpoints["us-east-1a"].addresses) == tolist(["198.51.100.11"]) &&
      tolist(failover_traffic_policy.this.targets["aws-use1"].endpoints["us-east-1b"].addresses) == tolist(["198.51.100.12"]) &&
      failover_traffic_policy.this.targets["aws-use1"].site == "aws-use1"
    )
    error_message = "A site's target must answer each zone's endpoint addresses from that zone's endpoint."
  }

  assert {
    condition     = failover_traffic_policy.this.replica_set == "payments-test"
    error_message = "The policy must link the replica set, named after the service by default."
  }

  assert {
    condition     = output.worst_case_failover_seconds == 7.5
    error_message = "worst_case_failover_seconds must be 2 × 1 + 0.5 (detection) + 0 (delay) + 5 (TTL) = 7.5 at plan time."
  }

  assert {
    condition     = output.burst_url == null && output.burst_toggle_name == null && length(failover_burst_toggle.this) == 0 && failover_traffic_policy.this.burst_toggle == null
    error_message = "No burst toggle unless burst is set."
  }

  assert {
    condition     = output.preferred_primary_site == "chicago-dc" && output.primary_site == "chicago-dc" && output.secondary_site == "aws-use1" && output.arbiter_site == "azure-scus"
    error_message = "The database primary must be expected where the traffic goes (the primary site)."
  }

  assert {
    condition     = alltrue([for m in values(output.replica_set_members) : m.priority == (m.site == "chicago-dc" ? 2 : (m.site == "aws-use1" ? 1 : 0))])
    error_message = "Database priorities must be 2 in the primary site, 1 in the secondary and 0 for the arbiter."
  }

  assert {
    condition = (
      toset([for m in values(output.replica_set_members) : m.zone if m.site == "chicago-dc"]) == toset(["hall-a", "hall-b"]) &&
      toset([for m in values(output.replica_set_members) : m.zone if m.site == "aws-use1"]) == toset(["us-east-1a", "us-east-1b"])
    )
    error_message = "Data members must be spread over the zones of each data site."
  }

  assert {
    condition     = [for m in values(output.replica_set_members) : m.site if m.arbiter] == ["azure-scus"] && length([for m in values(output.replica_set_members) : m if m.site == "azure-scus"]) == 1
    error_message = "The arbiter must sit alone in the third site."
  }

  assert {
    condition     = length(output.site_loss) == 3 && alltrue([for l in values(output.site_loss) : l.survives]) && output.fault_tolerance == 2
    error_message = "The replica set must survive the loss of any one site."
  }

  assert {
    condition     = length(jsondecode(output.config_json).members) == 5
    error_message = "config_json must hold all 5 members."
  }
}

run "burstable_dr" {
  command = plan

  variables {
    burst = {
      schedule = [{ start = "2026-11-27T00:00:00Z", end = "2026-11-30T23:59:59Z" }]
    }
  }

  assert {
    condition     = length(failover_burst_toggle.this) == 1 && failover_burst_toggle.this[0].name == "payments-test-burst" && failover_burst_toggle.this[0].site == "aws-use1"
    error_message = "burst must create one toggle, named <name>-burst, on the secondary site."
  }

  assert {
    condition     = failover_burst_toggle.this[0].schedule[0].start == "2026-11-27T00:00:00Z" && failover_burst_toggle.this[0].schedule[0].end == "2026-11-30T23:59:59Z"
    error_message = "The toggle must carry the schedule."
  }

  assert {
    condition     = failover_traffic_policy.this.burst_toggle == "payments-test-burst"
    error_message = "The policy must reference the toggle."
  }

  assert {
    condition = (
      failover_traffic_policy.this.targets["aws-use1-burst"].burst_only &&
      failover_traffic_policy.this.targets["aws-use1-burst"].site == "aws-use1" &&
      failover_traffic_policy.this.targets["aws-use1-burst"].endpoints == failover_traffic_policy.this.targets["aws-use1"].endpoints
    )
    error_message = "The secondary site must also be a burst_only target with its own checks and addresses."
  }

  assert {
    condition     = !failover_traffic_policy.this.targets["aws-use1"].burst_only && failover_traffic_policy.this.targets["aws-use1"].priority == 2 && !failover_traffic_policy.this.targets["chicago-dc"].burst_only
    error_message = "The secondary must stay the failover target next to its burst target."
  }
}

run "cname_site" {
  command = plan

  variables {
    sites = {
      chicago-dc = {
        kind = "onprem", region = "chicago", role = "primary"
        zones = { hall-a = {
          endpoints      = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }
          database_hosts = ["mongo-chi-a.example.org:27017"]
        } }
      }
      aws-use1 = {
        kind = "aws", region = "us-east-1", role = "secondary", cname = "web-use1.example.net"
        zones = { us-east-1a = {
          endpoints      = { web = { health_check_address = "127.0.0.1:18111" } }
          database_hosts = ["mongo-use1-a.example.net:27017"]
        } }
      }
      azure-scus = {
        kind  = "azure", region = "southcentralus", role = "arbiter"
        zones = { "1" = { database_hosts = ["mongo-arb.example.com:27017"] } }
      }
    }
  }

  assert {
    condition     = failover_traffic_policy.this.targets["aws-use1"].cname == "web-use1.example.net" && failover_traffic_policy.this.targets["aws-use1"].addresses == null
    error_message = "A site with a cname must answer the cname."
  }
}

run "fallback_answer" {
  command = plan

  variables {
    when_all_down = "fallback"
    fallback      = { addresses = ["203.0.113.50"] }
  }

  assert {
    condition     = failover_traffic_policy.this.when_all_down == "fallback" && tolist(failover_traffic_policy.this.fallback.addresses) == tolist(["203.0.113.50"])
    error_message = "when_all_down = fallback must set the fallback answer."
  }
}
