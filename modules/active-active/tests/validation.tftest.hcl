# Input validation of the active-active module.

variables {
  name = "api-test"
}

run "two_data_sites_need_an_arbiter" {
  command = plan
  variables {
    sites = {
      east = { kind = "aws", region = "us-east-1", role = "primary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18201", addresses = ["192.0.2.21"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      west = { kind = "aws", region = "us-west-2", role = "secondary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18211", addresses = ["198.51.100.21"] } }, database_hosts = ["db-2.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "at_least_two_data_sites" {
  command = plan
  variables {
    sites = {
      east = { kind = "aws", region = "us-east-1", role = "primary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18201", addresses = ["192.0.2.21"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      tie  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "exactly_one_primary" {
  command = plan
  variables {
    sites = {
      east    = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18201", addresses = ["192.0.2.21"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      west    = { kind = "aws", region = "us-west-2", role = "secondary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18211", addresses = ["198.51.100.21"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      central = { kind = "gcp", region = "us-central1", role = "secondary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18221", addresses = ["203.0.113.21"] } }, database_hosts = ["db-3.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "weight_in_range" {
  command = plan
  variables {
    sites = {
      east    = { kind = "aws", region = "us-east-1", role = "primary", weight = 1001, zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18201", addresses = ["192.0.2.21"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      west    = { kind = "aws", region = "us-west-2", role = "secondary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18211", addresses = ["198.51.100.21"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      central = { kind = "gcp", region = "us-central1", role = "secondary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18221", addresses = ["203.0.113.21"] } }, database_hosts = ["db-3.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "some_weight_above_zero" {
  command = plan
  variables {
    sites = {
      east    = { kind = "aws", region = "us-east-1", role = "primary", weight = 0, zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18201", addresses = ["192.0.2.21"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      west    = { kind = "aws", region = "us-west-2", role = "secondary", weight = 0, zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18211", addresses = ["198.51.100.21"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      central = { kind = "gcp", region = "us-central1", role = "secondary", weight = 0, zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18221", addresses = ["203.0.113.21"] } }, database_hosts = ["db-3.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "data_sites_distinct" {
  command = plan
  variables {
    sites = {
      east    = { kind = "aws", region = "us-east-1", role = "primary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18201", addresses = ["192.0.2.21"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      east2   = { kind = "aws", region = "us-east-1", role = "secondary", zones = { b = { endpoints = { lb = { health_check_address = "127.0.0.1:18211", addresses = ["198.51.100.21"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      central = { kind = "gcp", region = "us-central1", role = "secondary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18221", addresses = ["203.0.113.21"] } }, database_hosts = ["db-3.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "addresses_are_ips" {
  command = plan
  variables {
    sites = {
      east    = { kind = "aws", region = "us-east-1", role = "primary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18201", addresses = ["lb.example.org"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      west    = { kind = "aws", region = "us-west-2", role = "secondary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18211", addresses = ["198.51.100.21"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      central = { kind = "gcp", region = "us-central1", role = "secondary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18221", addresses = ["203.0.113.21"] } }, database_hosts = ["db-3.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "rto_exceeded" {
  command = plan
  variables {
    sites = {
      east    = { kind = "aws", region = "us-east-1", role = "primary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18201", addresses = ["192.0.2.21"] } }, database_hosts = ["db-1.example.org:27017"] } } }
      west    = { kind = "aws", region = "us-west-2", role = "secondary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18211", addresses = ["198.51.100.21"] } }, database_hosts = ["db-2.example.org:27017"] } } }
      central = { kind = "gcp", region = "us-central1", role = "secondary", zones = { a = { endpoints = { lb = { health_check_address = "127.0.0.1:18221", addresses = ["203.0.113.21"] } }, database_hosts = ["db-3.example.org:27017"] } } }
    }
    rto_seconds = 30
  }
  expect_failures = [failover_traffic_policy.this]
}
