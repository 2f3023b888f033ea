# Development: three regions, one zone endpoint and one database member each
# (3 voters, no arbiter), fast timings. Health-check addresses are loopback
# placeholders (override them with -var 'health_check_addresses={...}');
# client addresses and database hosts are documentation names, never probed.
name = "api-dev"

sites = {
  aws-use1 = {
    kind   = "aws"
    region = "us-east-1"
    role   = "primary"
    weight = 2
    zones = {
      us-east-1a = {
        endpoints      = { lb = { health_check_address = "127.0.0.1:18401", addresses = ["192.0.2.51"] } }
        database_hosts = ["mongo-dev-use1.example.org:27017"]
      }
    }
  }
  aws-usw2 = {
    kind   = "aws"
    region = "us-west-2"
    role   = "secondary"
    weight = 1
    zones = {
      us-west-2a = {
        endpoints      = { lb = { health_check_address = "127.0.0.1:18411", addresses = ["198.51.100.51"] } }
        database_hosts = ["mongo-dev-usw2.example.org:27017"]
      }
    }
  }
  gcp-euw1 = {
    kind   = "gcp"
    region = "europe-west1"
    role   = "secondary"
    weight = 1
    zones = {
      europe-west1-b = {
        endpoints      = { lb = { health_check_address = "127.0.0.1:18421", addresses = ["203.0.113.51"] } }
        database_hosts = ["mongo-dev-euw1.example.org:27017"]
      }
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
