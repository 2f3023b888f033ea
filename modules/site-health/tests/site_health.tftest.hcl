# The checks of one site, asserted on the plan with the real provider
# (dev_overrides, see ../README.md), and every input validation.

variables {
  name_prefix = "payments-test"
  site_name   = "aws-use1"
  zones = {
    us-east-1a = {
      endpoints = {
        web = { health_check_address = "127.0.0.1:18081", addresses = ["192.0.2.10"] }
        api = { health_check_address = "127.0.0.1:18082", addresses = ["192.0.2.10", "192.0.2.11"] }
      }
    }
    us-east-1b = {
      endpoints = {
        web = { health_check_address = "127.0.0.1:18083", addresses = ["192.0.2.12"] }
      }
    }
    us-east-1c = {}
  }
  health_check = {
    path             = "/healthz"
    interval_seconds = 5
    timeout_seconds  = 1.5
    fall             = 3
  }
}

run "one_check_per_endpoint" {
  command = plan

  assert {
    condition     = length(failover_health_check.this) == 3
    error_message = "Expected one check per endpoint over all zones (3)."
  }

  assert {
    condition     = tolist(output.health_check_names) == tolist(["payments-test-aws-use1-us-east-1a-api", "payments-test-aws-use1-us-east-1a-web", "payments-test-aws-use1-us-east-1b-web"])
    error_message = "Checks are named <name_prefix>-<site>-<zone>-<endpoint>, sorted."
  }

  assert {
    condition     = alltrue([for c in values(failover_health_check.this) : c.site == "aws-use1" && c.type == "http" && c.path == "/healthz" && c.interval_seconds == 5 && c.timeout_seconds == 1.5])
    error_message = "Every check must carry the site and the check settings."
  }

  assert {
    condition     = failover_health_check.this["us-east-1b/web"].address == "127.0.0.1:18083"
    error_message = "A check probes its endpoint's health_check_address."
  }

  assert {
    condition     = tolist(output.addresses) == tolist(["192.0.2.10", "192.0.2.11", "192.0.2.12"])
    error_message = "addresses must be every endpoint's client addresses, deduplicated."
  }

  assert {
    condition     = output.detection_seconds == 16.5
    error_message = "detection_seconds must be fall × interval + timeout (3 × 5 + 1.5)."
  }

  assert {
    condition     = length(output.health_check_names_by_zone["us-east-1c"]) == 0 && length(output.health_check_names_by_zone["us-east-1a"]) == 2
    error_message = "Checks must be grouped by zone, a zone without endpoints having none."
  }
}

run "tcp_checks_drop_http_settings" {
  command = plan

  variables {
    health_check = { type = "tcp", path = "/ignored", interval_seconds = 2, timeout_seconds = 1 }
  }

  assert {
    condition     = alltrue([for c in values(failover_health_check.this) : c.type == "tcp" && c.interval_seconds == 2])
    error_message = "tcp checks must be planned with the given timings."
  }
}

run "zones_not_empty" {
  command = plan
  variables {
    zones = {}
  }
  expect_failures = [var.zones]
}

run "site_needs_an_endpoint" {
  command = plan
  variables {
    zones = { a = {} }
  }
  expect_failures = [var.zones]
}

run "zone_name_valid_for_failoverd" {
  command = plan
  variables {
    zones = { "us_east_1a" = { endpoints = { web = { health_check_address = "127.0.0.1:18081" } } } }
  }
  expect_failures = [var.zones]
}

run "endpoint_name_valid_for_failoverd" {
  command = plan
  variables {
    zones = { a = { endpoints = { "Web" = { health_check_address = "127.0.0.1:18081" } } } }
  }
  expect_failures = [var.zones]
}

run "health_check_address_is_host_port" {
  command = plan
  variables {
    zones = { a = { endpoints = { web = { health_check_address = "http://127.0.0.1:18081/healthz" } } } }
  }
  expect_failures = [var.zones]
}

run "addresses_are_ips" {
  command = plan
  variables {
    zones = { a = { endpoints = { web = { health_check_address = "127.0.0.1:18081", addresses = ["lb.example.org"] } } } }
  }
  expect_failures = [var.zones]
}

run "site_name_valid_for_failoverd" {
  command = plan
  variables {
    site_name = "AWS us-east-1"
  }
  expect_failures = [var.site_name]
}

run "name_prefix_valid_for_failoverd" {
  command = plan
  variables {
    name_prefix = "-payments"
  }
  expect_failures = [var.name_prefix]
}

run "check_type" {
  command = plan
  variables {
    health_check = { type = "icmp" }
  }
  expect_failures = [var.health_check]
}

run "timeout_below_interval" {
  command = plan
  variables {
    health_check = { interval_seconds = 2, timeout_seconds = 2 }
  }
  expect_failures = [var.health_check]
}

run "rise_and_fall_in_range" {
  command = plan
  variables {
    health_check = { fall = 0 }
  }
  expect_failures = [var.health_check]
}

run "generated_name_fits_63_characters" {
  command = plan
  variables {
    name_prefix = "a-very-long-service-name-for-the-checkout-team"
    site_name   = "aws-us-east-1-primary"
  }
  expect_failures = [failover_health_check.this]
}
