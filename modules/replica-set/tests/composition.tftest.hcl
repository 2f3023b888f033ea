# Composition of the replica set, asserted on the plan. The real provider
# runs (through dev_overrides, see ../README.md): site_loss, majority and
# config_json are computed at plan time by the same code failoverd runs, so
# no failoverd is needed and nothing is applied.

variables {
  name = "orders-test"
  sites = {
    chicago = {
      kind   = "onprem"
      region = "chicago"
      role   = "primary"
      zones = {
        hall-a = { database_hosts = ["mongo-chi-a.example.org:27017"] }
        hall-b = { database_hosts = ["mongo-chi-b.example.org:27017"] }
      }
    }
    aws-use1 = {
      kind   = "aws"
      region = "us-east-1"
      role   = "secondary"
      zones = {
        us-east-1a = { database_hosts = ["mongo-use1-a.example.net:27017"] }
        us-east-1b = { database_hosts = ["mongo-use1-b.example.net:27017"] }
        us-east-1c = {}
      }
    }
    gcp-usc1 = {
      kind   = "gcp"
      region = "us-central1"
      role   = "arbiter"
      zones = {
        us-central1-a = { database_hosts = ["mongo-arb.example.com:27017"] }
      }
    }
  }
}

run "two_data_sites_and_an_arbiter" {
  command = plan

  assert {
    condition     = length(failover_replica_set.this.members) == 5
    error_message = "Expected one member per database host: 2 + 2 data members and 1 arbiter."
  }

  assert {
    condition     = alltrue([for m in values(output.members) : m.priority == 2 if m.site == "chicago"])
    error_message = "Every member of the primary site must have database_priorities.primary (2)."
  }

  assert {
    condition     = alltrue([for m in values(output.members) : m.priority == 1 if m.site == "aws-use1"])
    error_message = "Every member of the secondary site must have database_priorities.secondary (1)."
  }

  assert {
    condition     = output.members["gcp-usc1-arbiter"].arbiter && output.members["gcp-usc1-arbiter"].priority == 0
    error_message = "The arbiter must be flagged arbiter with priority 0."
  }

  assert {
    condition     = [for m in values(output.members) : m.site if m.arbiter] == ["gcp-usc1"] && length([for m in values(output.members) : m if m.site == "gcp-usc1"]) == 1
    error_message = "The arbiter must be the only member of its site, and the only arbiter."
  }

  assert {
    condition = (
      toset([for m in values(output.members) : m.zone if m.site == "chicago"]) == toset(["hall-a", "hall-b"]) &&
      toset([for m in values(output.members) : m.zone if m.site == "aws-use1"]) == toset(["us-east-1a", "us-east-1b"])
    )
    error_message = "Data members must sit in the zones their hosts are listed under, spread over the site's zones."
  }

  assert {
    condition     = output.members["aws-use1-us-east-1b-1"].host == "mongo-use1-b.example.net:27017"
    error_message = "Members are named <site>-<zone>-<n> after the host they run on."
  }

  assert {
    condition     = failover_replica_set.this.members["chicago-hall-a-1"].tags == tomap({ kind = "onprem", region = "chicago" })
    error_message = "Data members carry the site's kind and region as MongoDB tags."
  }

  assert {
    condition     = failover_replica_set.this.members["gcp-usc1-arbiter"].tags == null
    error_message = "The arbiter carries no tags (MongoDB rejects them)."
  }

  assert {
    condition     = output.voting_members == 5 && output.majority == 3 && output.fault_tolerance == 2
    error_message = "5 voters need a majority of 3 and tolerate 2 lost."
  }

  assert {
    condition     = output.preferred_primary_site == "chicago" && output.primary_site == "chicago" && output.arbiter_site == "gcp-usc1"
    error_message = "The primary must be expected in the primary site; the arbiter site must be reported."
  }

  assert {
    condition     = toset(keys(output.site_loss)) == toset(["chicago", "aws-use1", "gcp-usc1"]) && alltrue([for l in values(output.site_loss) : l.survives])
    error_message = "The site-loss table must list every site, and the set must survive the loss of each."
  }

  assert {
    condition     = startswith(output.site_loss["chicago"].new_primary, "aws-use1-") && startswith(output.site_loss["gcp-usc1"].new_primary, "chicago-")
    error_message = "Losing the primary site must move the primary to the secondary site; losing the arbiter must keep it in the primary site."
  }

  assert {
    condition = (
      output.site_loss["chicago"].majority_writes == false && output.site_loss["aws-use1"].majority_writes == false &&
      output.site_loss["gcp-usc1"].majority_writes == true &&
      output.site_loss["chicago"].data_voters_left == 2 && output.site_loss["chicago"].write_concern_before == "majority" &&
      failover_replica_set.this.default_write_concern == "majority" && failover_replica_set.this.write_majority == 3
    )
    error_message = "2 + 2 data members and an arbiter: a data site's loss keeps elections (survives) but not w:majority writes (2 data-bearing voters left, 3 needed)."
  }

  assert {
    condition = (
      jsondecode(output.config_json)._id == "orders-test" &&
      length(jsondecode(output.config_json).members) == 5 &&
      length([for m in jsondecode(output.config_json).members : m if m.arbiterOnly]) == 1
    )
    error_message = "config_json must be the replSetReconfig document of the 5 members with one arbiter."
  }

  assert {
    condition     = length(output.health_check_names) == 0
    error_message = "No member health checks unless database_health_checks = true."
  }
}

run "custom_priorities" {
  command = plan

  variables {
    database_priorities = { primary = 10, secondary = 5 }
  }

  assert {
    condition     = alltrue([for m in values(output.members) : m.priority == (m.site == "chicago" ? 10 : (m.arbiter ? 0 : 5))])
    error_message = "database_priorities must be applied per site role."
  }
}

run "member_health_checks" {
  command = plan

  variables {
    database_health_checks = true
    health_check           = { interval_seconds = 5, timeout_seconds = 1, fall = 2 }
  }

  assert {
    condition     = length(failover_health_check.member) == 5 && alltrue([for c in values(failover_health_check.member) : c.type == "tcp" && c.interval_seconds == 5])
    error_message = "One tcp check per member, with health_check's timings."
  }

  assert {
    condition     = failover_health_check.member["chicago-hall-a-1"].address == "mongo-chi-a.example.org:27017" && failover_health_check.member["chicago-hall-a-1"].site == "chicago"
    error_message = "A member's check probes its host from its site."
  }

  assert {
    condition     = failover_replica_set.this.members["chicago-hall-a-1"].health_check == "orders-test-db-chicago-hall-a-1"
    error_message = "Each member must be linked to its check."
  }
}

run "three_data_sites_without_arbiter" {
  command = plan

  variables {
    sites = {
      use1 = { kind = "aws", region = "us-east-1", role = "primary", zones = { a = { database_hosts = ["db-use1.example.org:27017"] } } }
      usw2 = { kind = "aws", region = "us-west-2", role = "secondary", zones = { a = { database_hosts = ["db-usw2.example.org:27017"] } } }
      euw1 = { kind = "gcp", region = "europe-west1", role = "secondary", zones = { b = { database_hosts = ["db-euw1.example.org:27017"] } } }
    }
  }

  assert {
    condition     = output.arbiter_site == null && output.voting_members == 3 && alltrue([for l in values(output.site_loss) : l.survives])
    error_message = "Three data sites of one member each survive any one site's loss without an arbiter."
  }

  assert {
    condition     = alltrue([for l in values(output.site_loss) : l.majority_writes && length(l.critical_members) == 2])
    error_message = "Three data sites of one member each keep w:majority writes after any one site's loss, with no member to spare."
  }
}
