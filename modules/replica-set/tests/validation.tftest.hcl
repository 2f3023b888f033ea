# Every validation rule of the inputs, each with one broken input. A run
# passes when exactly the named input fails its validation at plan time.

variables {
  name = "orders-test"
}

run "exactly_one_primary_none" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "secondary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "exactly_one_primary_two" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "primary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "unknown_role" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "standby", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "at_least_two_data_sites" {
  command = plan
  variables {
    sites = {
      dc1 = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] }, b = { database_hosts = ["db-2.example.org:27017"] } } }
      arb = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "two_data_sites_need_an_arbiter" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "at_most_one_arbiter_site" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb1 = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb-1.example.org:27017"] } } }
      arb2 = { kind = "azure", region = "westus2", role = "arbiter", zones = { a = { database_hosts = ["arb-2.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "arbiter_site_distinct_from_data_sites" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "aws", region = "us-east-1", role = "arbiter", zones = { b = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "data_sites_distinct" {
  command = plan
  variables {
    sites = {
      use1-a = { kind = "aws", region = "us-east-1", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1-b = { kind = "aws", region = "us-east-1", role = "secondary", zones = { b = { database_hosts = ["db-2.example.org:27017"] } } }
      arb    = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "zones_not_empty" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = {} }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "site_name_valid_for_failoverd" {
  command = plan
  variables {
    sites = {
      Chicago_DC = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1       = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb        = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "zone_name_valid_for_failoverd" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { "Hall A" = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "kind_is_a_label" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "On Prem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "data_site_needs_database_hosts" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = {} } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "members_spread_over_zones" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017", "db-2.example.org:27017"] }, b = {} } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-3.example.org:27017"] }, b = { database_hosts = ["db-4.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "arbiter_site_holds_one_host" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb-1.example.org:27017", "arb-2.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "database_host_is_host_port" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["mongodb://db-1.example.org"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "database_hosts_unique" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["DB-1.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "at_most_seven_voters" {
  command = plan
  variables {
    sites = {
      dc1 = { kind = "onprem", region = "chicago", role = "primary", zones = {
        a = { database_hosts = ["db-1.example.org:27017", "db-2.example.org:27017"] }
        b = { database_hosts = ["db-3.example.org:27017", "db-4.example.org:27017"] }
      } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = {
        a = { database_hosts = ["db-5.example.org:27017", "db-6.example.org:27017"] }
        b = { database_hosts = ["db-7.example.org:27017", "db-8.example.org:27017"] }
      } }
      arb = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "majority_survives_any_site_loss" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017", "db-2.example.org:27017"] }, b = { database_hosts = ["db-3.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-4.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.sites]
}

run "priorities_keep_primary_in_primary_site" {
  command = plan
  variables {
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
    database_priorities = { primary = 1, secondary = 2 }
  }
  expect_failures = [var.database_priorities]
}

run "name_valid_for_failoverd" {
  command = plan
  variables {
    name = "Orders_Prod"
    sites = {
      dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { database_hosts = ["db-1.example.org:27017"] } } }
      use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { database_hosts = ["db-2.example.org:27017"] } } }
      arb  = { kind = "gcp", region = "us-central1", role = "arbiter", zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
    }
  }
  expect_failures = [var.name]
}
