# Development: the same three-site topology as prod, smaller and faster to
# fail over. Health-check addresses are loopback placeholders (override them
# with -var 'health_check_addresses={...}'); client addresses and database
# hosts are documentation names and are never probed.
name = "payments-dev"

sites = {
  chicago-dc = {
    kind   = "onprem"
    region = "chicago"
    role   = "primary"
    zones = {
      hall-a = {
        endpoints      = { web = { health_check_address = "127.0.0.1:18101", addresses = ["192.0.2.11"] } }
        database_hosts = ["mongo-dev-chi-a.example.org:27017"]
      }
      hall-b = {
        endpoints      = { web = { health_check_address = "127.0.0.1:18102", addresses = ["192.0.2.12"] } }
        database_hosts = ["mongo-dev-chi-b.example.org:27017"]
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
        database_hosts = ["mongo-dev-use1-a.example.net:27017"]
      }
      us-east-1b = {
        endpoints      = { web = { health_check_address = "127.0.0.1:18112", addresses = ["198.51.100.12"] } }
        database_hosts = ["mongo-dev-use1-b.example.net:27017"]
      }
    }
  }
  azure-scus = {
    kind   = "azure"
    region = "southcentralus"
    role   = "arbiter"
    zones = {
      "1" = { database_hosts = ["mongo-dev-arb.example.com:27017"] }
    }
  }
}

health_check = {
  path             = "/"
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
