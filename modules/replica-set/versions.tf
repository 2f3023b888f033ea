terraform {
  required_version = ">= 1.5"

  required_providers {
    failover = {
      source  = "hatopo/failover"
      version = ">= 0.1"
    }
  }
}
