# Production: on-prem Chicago data center (two halls) serves; AWS us-east-1
# (three AZs) takes over; the arbiter runs in Azure South Central US.
# Health-check addresses are loopback placeholders here so that this file can
# be applied against a local failoverd (tests override them with
# -var 'health_check_addresses={...}'); a real deployment puts the zones'
# load balancers here. Client addresses are documentation IPs.
name = "payments-prod"

sites = {
  chicago-dc = {
    kind   = "onprem"
    region = "chicago"
    role   = "primary"
    zones = {
      hall-a = {
        endpoints = {
          web = { health_check_address = "127.0.0.1:19101", addresses = ["192.0.2.21"] }
          api = { health_check_address = "127.0.0.1:19102", addresses = ["192.0.2.22"] }
        }
        database_hosts = ["mongo-chi-a.example.org:27017"]
      }
      hall-b = {
        endpoints = {
          web = { health_check_address = "127.0.0.1:19103", addresses = ["192.0.2.23"] }
          api = { health_check_address = "127.0.0.1:19104", addresses = ["192.0.2.24"] }
        }
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
        endpoints      = { web = { health_check_address = "127.0.0.1:19111", addresses = ["198.51.100.21"] } }
        database_hosts = ["mongo-use1-a.example.net:27017"]
      }
      us-east-1b = {
        endpoints      = { web = { health_check_address = "127.0.0.1:19112", addresses = ["198.51.100.22"] } }
        database_hosts = ["mongo-use1-b.example.net:27017"]
      }
      us-east-1c = {
        endpoints = { web = { health_check_address = "127.0.0.1:19113", addresses = ["198.51.100.23"] } }
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
