# Development: primary data center + warm DR region + arbiter, fast timings.
# Health-check addresses are loopback placeholders (override them with
# -var 'health_check_addresses={...}'). They probe each site's web pool
# directly, not the DR load balancer's VIP, which is down while the burst
# toggle is released. Client addresses and database hosts are documentation
# names and are never probed.
name = "shop-dev"

sites = {
  nj-dc = {
    kind   = "onprem"
    region = "newark"
    role   = "primary"
    zones = {
      row-1 = {
        endpoints      = { web = { health_check_address = "127.0.0.1:18301", addresses = ["192.0.2.31"] } }
        database_hosts = ["mongo-dev-nj-1.example.org:27017"]
      }
      row-2 = {
        endpoints      = { web = { health_check_address = "127.0.0.1:18302", addresses = ["192.0.2.32"] } }
        database_hosts = ["mongo-dev-nj-2.example.org:27017"]
      }
    }
  }
  aws-use2 = {
    kind   = "aws"
    region = "us-east-2"
    role   = "secondary"
    zones = {
      us-east-2a = {
        endpoints      = { web = { health_check_address = "127.0.0.1:18311", addresses = ["198.51.100.31"] } }
        database_hosts = ["mongo-dev-use2-a.example.net:27017"]
      }
      us-east-2b = {
        endpoints      = { web = { health_check_address = "127.0.0.1:18312", addresses = ["198.51.100.32"] } }
        database_hosts = ["mongo-dev-use2-b.example.net:27017"]
      }
    }
  }
  gcp-usc1 = {
    kind   = "gcp"
    region = "us-central1"
    role   = "arbiter"
    zones = {
      us-central1-a = { database_hosts = ["mongo-dev-arb.example.com:27017"] }
    }
  }
}

health_check = {
  interval_seconds = 1
  timeout_seconds  = 0.5
  rise             = 2
  fall             = 2
}

ttl_seconds            = 5
failover_delay_seconds = 0
failback_delay_seconds = 5
rto_seconds            = 30
when_all_down          = "fail_open"

# The load-test rehearsal before the Black Friday weekend.
burst_schedule = [
  { start = "2026-11-24T14:00:00Z", end = "2026-11-24T18:00:00Z" },
]
