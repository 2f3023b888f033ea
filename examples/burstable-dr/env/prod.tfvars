# Production: the Newark data center serves; AWS us-east-2 is the warm DR
# site that takes over when Newark fails and bursts next to it over the
# Black Friday weekend; the arbiter runs in GCP us-central1.
# Health-check addresses are loopback placeholders here so that this file can
# be applied against a local failoverd (tests override them with
# -var 'health_check_addresses={...}'); a real deployment probes each zone's
# web pool directly (not the DR load balancer's VIP, which is down while the
# toggle is released). Client addresses are documentation IPs.
name = "shop-prod"

sites = {
  nj-dc = {
    kind   = "onprem"
    region = "newark"
    role   = "primary"
    zones = {
      row-1 = {
        endpoints      = { web = { health_check_address = "127.0.0.1:19301", addresses = ["192.0.2.41", "192.0.2.42"] } }
        database_hosts = ["mongo-nj-1.example.org:27017"]
      }
      row-2 = {
        endpoints      = { web = { health_check_address = "127.0.0.1:19302", addresses = ["192.0.2.43", "192.0.2.44"] } }
        database_hosts = ["mongo-nj-2.example.org:27017"]
      }
    }
  }
  aws-use2 = {
    kind   = "aws"
    region = "us-east-2"
    role   = "secondary"
    zones = {
      us-east-2a = {
        endpoints      = { web = { health_check_address = "127.0.0.1:19311", addresses = ["198.51.100.41"] } }
        database_hosts = ["mongo-use2-a.example.net:27017"]
      }
      us-east-2b = {
        endpoints      = { web = { health_check_address = "127.0.0.1:19312", addresses = ["198.51.100.42"] } }
        database_hosts = ["mongo-use2-b.example.net:27017"]
      }
      us-east-2c = {
        endpoints = { web = { health_check_address = "127.0.0.1:19313", addresses = ["198.51.100.43"] } }
      }
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

health_check = {
  path             = "/healthz"
  interval_seconds = 5
  timeout_seconds  = 2
  rise             = 2
  fall             = 3
}

ttl_seconds            = 30
failover_delay_seconds = 10
failback_delay_seconds = 300
rto_seconds            = 120
when_all_down          = "fallback"
fallback               = { addresses = ["203.0.113.50"] }

# Black Friday through Cyber Monday: the DR site serves next to the primary.
burst_schedule = [
  { start = "2026-11-27T00:00:00Z", end = "2026-12-01T06:00:00Z" },
]
