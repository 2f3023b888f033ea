# Input validation of the active-passive module: each run breaks one rule
# and expects exactly that input (or precondition) to fail at plan time.

variables {
  name = "payments-test"
  sites = {
    dc1 = {
      kind   = "onprem"
      region = "chicago"
      role   = "primary"
      zones = {
        a = {
          endpoints      = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }
          database_hosts = ["db-1.example.org:27017"]
        }
      }
    }
    use1 = {
      kind   = "aws"
      region = "us-east-1"
      role   = "secondary"
      zones = {
        a = {
          endpoints      = { web = { health_check_address = "127.0.0.1:18111", addresses = ["198.51.100.11"] } }
          database_hosts = ["db-2.example.org:27017"]
        }
      }
    }
    arb = {
      kind   = "gcp"
      region = "us-central1"
      role   = "arbiter"
      zones  = { a = { database_hosts = ["arb.example.org:27017"] } }
    }
  }
}

run "valid_baseline" {
  command = plan
}

run "exactly_one_primary" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "primary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18111", addresses = ["198.51.100.11"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "exactly_one_secondary" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18111", addresses = ["198.51.100.11"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      usw2 = { kind = "aws", region = "us-west-2", role = "secondary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18121", addresses = ["198.51.100.21"] } }, database_hosts = ["db-3.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "arbiter_required" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18111", addresses = ["198.51.100.11"] } }, database_hosts = ["db-2.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "arbiter_site_distinct_from_data_sites" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18111", addresses = ["198.51.100.11"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "onprem", region = "Chicago", role = "arbiter", zones = { b = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "arbiter_site_serves_no_traffic" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18111", addresses = ["198.51.100.11"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18121", addresses = ["203.0.113.21"] } }, database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "data_site_needs_an_endpoint" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", cname = "web.example.net", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "zones_not_empty" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18111", addresses = ["198.51.100.11"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = {} }
    }
  }
  expect_failures = [var.sites]
}

run "addresses_or_cname_not_both" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", cname = "web.example.net", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18111", addresses = ["198.51.100.11"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "health_check_address_is_host_port" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1", addresses = ["192.0.2.11"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18111", addresses = ["198.51.100.11"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "majority_survives_any_site_loss" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }, database_hosts = ["db-1.example.org:27017"] }, b = { database_hosts = ["db-3.example.org:27017", "db-4.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18111", addresses = ["198.51.100.11"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "burst_window_end_after_start" {
  command = plan
  variables {
    burst = { schedule = [{ start = "2026-11-30T00:00:00Z", end = "2026-11-27T00:00:00Z" }] }
  }
  expect_failures = [var.burst]
}

run "burst_window_rfc3339" {
  command = plan
  variables {
    burst = { schedule = [{ start = "Black Friday", end = "2026-11-30T00:00:00Z" }] }
  }
  expect_failures = [var.burst]
}

run "burst_bodies_differ" {
  command = plan
  variables {
    burst = { body_engaged = "up", body_released = "up" }
  }
  expect_failures = [var.burst]
}

run "when_all_down_is_an_answer" {
  command = plan
  variables {
    when_all_down = "fail-open"
  }
  expect_failures = [var.when_all_down]
}

run "fallback_needs_an_answer" {
  command = plan
  variables {
    when_all_down = "fallback"
  }
  expect_failures = [failover_traffic_policy.this]
}

run "fail_open_takes_no_fallback" {
  command = plan
  variables {
    fallback = { addresses = ["203.0.113.50"] }
  }
  expect_failures = [failover_traffic_policy.this]
}

run "fallback_takes_addresses_or_cname" {
  command = plan
  variables {
    when_all_down = "fallback"
    fallback      = { addresses = ["203.0.113.50"], cname = "sorry.example.net" }
  }
  expect_failures = [var.fallback]
}

run "timeout_below_interval" {
  command = plan
  variables {
    health_check = { interval_seconds = 1, timeout_seconds = 1 }
  }
  expect_failures = [var.health_check]
}

run "database_priorities_ordered" {
  command = plan
  variables {
    database_priorities = { primary = 1, secondary = 1 }
  }
  expect_failures = [var.database_priorities]
}

run "ttl_in_range" {
  command = plan
  variables {
    ttl_seconds = -1
  }
  expect_failures = [var.ttl_seconds]
}

run "rto_exceeded" {
  command = plan
  variables {
    health_check = { interval_seconds = 10, timeout_seconds = 2, fall = 3 }
    ttl_seconds  = 30
    rto_seconds  = 60
  }
  expect_failures = [failover_traffic_policy.this]
}

run "name_valid_for_failoverd" {
  command = plan
  variables {
    name = "Payments"
  }
  expect_failures = [var.name]
}
