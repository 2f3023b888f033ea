# Composition of the active-active module, asserted on the plan with the
# real provider (dev_overrides, see ../README.md).

variables {
  name = "api-test"
  sites = {
    aws-use1 = {
      kind   = "aws"
      region = "us-east-1"
      role   = "primary"
      weight = 50
      zones = {
        us-east-1a = {
          endpoints      = { lb = { health_check_address = "127.0.0.1:18201", addresses = ["192.0.2.21"] } }
          database_hosts = ["mongo-use1-a.example.org:27017"]
        }
        us-east-1b = {
          endpoints      = { lb = { health_check_address = "127.0.0.1:18202", addresses = ["192.0.2.22"] } }
          database_hosts = ["mongo-use1-b.example.org:27017"]
        }
      }
    }
    aws-usw2 = {
      kind   = "aws"
      region = "us-west-2"
      role   = "secondary"
      weight = 30
      zones = {
        us-west-2a = {
          endpoints      = { lb = { health_check_address = "127.0.0.1:18211", addresses = ["198.51.100.21"] } }
          database_hosts = ["mongo-usw2-a.example.org:27017"]
        }
        us-west-2b = {
          endpoints      = { lb = { health_check_address = "127.0.0.1:18212", addresses = ["198.51.100.22"] } }
          database_hosts = ["mongo-usw2-b.example.org:27017"]
        }
      }
    }
    gcp-euw1 = {
      kind   = "gcp"
      region = "europe-west1"
      role   = "secondary"
      weight = 20
      zones = {
        europe-west1-b = {
          endpoints      = { lb = { health_check_address = "127.0.0.1:18221", addresses = ["203.0.113.21"] } }
          database_hosts = ["mongo-euw1-b.example.org:27017"]
        }
        europe-west1-c = {
          endpoints = { lb = { health_check_address = "127.0.0.1:18222", addresses = ["203.0.113.22"] } }
        }
      }
    }
  }
  health_check = {
    interval_seconds = 2
    timeout_seconds  = 1
    fall             = 2
  }
  ttl_seconds = 10
}

run "three_weighted_regions_without_arbiter" {
  command = plan

  assert {
    condition     = failover_traffic_policy.this.mode == "active-active" && length(failover_traffic_policy.this.targets) == 3
    error_message = "One weighted target per data site."
  }

  assert {
    condition = (
      failover_traffic_policy.this.targets["aws-use1"].weight == 50 &&
      failover_traffic_policy.this.targets["aws-usw2"].weight == 30 &&
      failover_traffic_policy.this.targets["gcp-euw1"].weight == 20 &&
      alltrue([for t in values(failover_traffic_policy.this.targets) : t.priority == null])
    )
    error_message = "Targets must carry the sites' weights and no priority."
  }

  assert {
    condition = (
      length(output.health_checks["gcp-euw1"]) == 2 &&
      length(failover_traffic_policy.this.targets["gcp-euw1"].endpoints) == 2 &&
      toset(flatten([for e in values(failover_traffic_policy.this.targets["gcp-euw1"].endpoints) : e.health_checks])) == toset([for c in values(output.health_checks["gcp-euw1"]) : c.name]) &&
      failover_traffic_policy.this.targets["gcp-euw1"].min_healthy == 1
    )
    error_message = "A site's target must have one endpoint per zone, gated by that zone's checks (one per zone endpoint)."
  }

  assert {
    condition     = output.arbiter_site == null && length(output.replica_set_members) == 5 && alltrue([for m in values(output.replica_set_members) : !m.arbiter])
    error_message = "Three data sites need no arbiter: one member per database host."
  }

  assert {
    condition     = alltrue([for m in values(output.replica_set_members) : m.priority == (m.site == "aws-use1" ? 2 : 1)])
    error_message = "The primary site's members must outrank the others."
  }

  assert {
    condition     = output.preferred_primary_site == "aws-use1" && failover_traffic_policy.this.replica_set == "api-test"
    error_message = "The database primary must be expected in the primary site, and the policy linked to the replica set."
  }

  assert {
    condition     = alltrue([for l in values(output.site_loss) : l.survives]) && length(output.site_loss) == 3
    error_message = "A voting majority must survive the loss of any one region."
  }

  assert {
    condition     = output.worst_case_failover_seconds == 15 && output.burst_url == null
    error_message = "worst_case_failover_seconds must be 2 × 2 + 1 + 0 + 10 = 15; active-active has no burst URL."
  }
}

run "two_data_sites_and_an_arbiter" {
  command = plan

  variables {
    sites = {
      east = {
        kind = "aws", region = "us-east-1", role = "primary"
        zones = {
          a = { endpoints = { lb = { health_check_address = "127.0.0.1:18201", addresses = ["192.0.2.21"] } }, database_hosts = ["db-e-a.example.org:27017"] }
          b = { endpoints = { lb = { health_check_address = "127.0.0.1:18202", addresses = ["192.0.2.22"] } }, database_hosts = ["db-e-b.example.org:27017"] }
        }
      }
      west = {
        kind = "onprem", region = "phoenix", role = "secondary"
        zones = {
          a = { endpoints = { lb = { health_check_address = "127.0.0.1:18211", addresses = ["198.51.100.21"] } }, database_hosts = ["db-w-a.example.org:27017"] }
          b = { endpoints = { lb = { health_check_address = "127.0.0.1:18212", addresses = ["198.51.100.22"] } }, database_hosts = ["db-w-b.example.org:27017"] }
        }
      }
      tie = {
        kind  = "gcp", region = "us-central1", role = "arbiter"
        zones = { a = { database_hosts = ["arb.example.org:27017"] } }
      }
    }
  }

  assert {
    condition     = tolist(keys(failover_traffic_policy.this.targets)) == tolist(["east", "west"]) && alltrue([for t in values(failover_traffic_policy.this.targets) : t.weight == 1])
    error_message = "The arbiter site must not be a target; weights default to 1."
  }

  assert {
    condition     = output.arbiter_site == "tie" && [for m in values(output.replica_set_members) : m.site if m.arbiter] == ["tie"] && length([for m in values(output.replica_set_members) : m if m.site == "tie"]) == 1
    error_message = "With two data sites the arbiter must sit alone in the third site."
  }

  assert {
    condition     = alltrue([for l in values(output.site_loss) : l.survives])
    error_message = "A voting majority must survive the loss of any one site."
  }
}
