# Production: three regions weighted 50/30/20, each spread over its zones.
# The database primary stays in us-east-1 (3 members there, 2 in each other
# region: 7 voters, majority 4, any one region may be lost). Health-check
# addresses are loopback placeholders here so that this file can be applied
# against a local failoverd (tests override them with
# -var 'health_check_addresses={...}'); a real deployment puts the zones'
# load balancers here. Client addresses are documentation IPs.
name = "api-prod"

sites = {
  aws-use1 = {
    kind   = "aws"
    region = "us-east-1"
    role   = "primary"
    weight = 50
    zones = {
      us-east-1a = {
        endpoints      = { lb = { health_check_address = "127.0.0.1:19401", addresses = ["192.0.2.61"] } }
        database_hosts = ["mongo-use1-a.example.org:27017"]
      }
      us-east-1b = {
        endpoints      = { lb = { health_check_address = "127.0.0.1:19402", addresses = ["192.0.2.62"] } }
        database_hosts = ["mongo-use1-b.example.org:27017"]
      }
      us-east-1c = {
        endpoints      = { lb = { health_check_address = "127.0.0.1:19403", addresses = ["192.0.2.63"] } }
        database_hosts = ["mongo-use1-c.example.org:27017"]
      }
    }
  }
  aws-usw2 = {
    kind   = "aws"
    region = "us-west-2"
    role   = "secondary"
    weight = 30
    zones = {
      us-west-2a = {
        endpoints      = { lb = { health_check_address = "127.0.0.1:19411", addresses = ["198.51.100.61"] } }
        database_hosts = ["mongo-usw2-a.example.org:27017"]
      }
      us-west-2b = {
        endpoints      = { lb = { health_check_address = "127.0.0.1:19412", addresses = ["198.51.100.62"] } }
        database_hosts = ["mongo-usw2-b.example.org:27017"]
      }
    }
  }
  gcp-euw1 = {
    kind   = "gcp"
    region = "europe-west1"
    role   = "secondary"
    weight = 20
    zones = {
      europe-west1-b = {
        endpoints      = { lb = { health_check_address = "127.0.0.1:19421", addresses = ["203.0.113.61"] } }
        database_hosts = ["mongo-euw1-b.example.org:27017"]
      }
      europe-west1-c = {
        endpoints      = { lb = { health_check_address = "127.0.0.1:19422", addresses = ["203.0.113.62"] } }
        database_hosts = ["mongo-euw1-c.example.org:27017"]
      }
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
failover_delay_seconds = 0
failback_delay_seconds = 120
rto_seconds            = 60
when_all_down          = "fail_open"
