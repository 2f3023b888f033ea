# Endpoint and token default to FAILOVER_ENDPOINT and FAILOVER_TOKEN, so a
# configuration applied per environment usually needs an empty block.
provider "failover" {}

# Or explicitly, e.g. against a failoverd serving HTTPS with a private CA:
provider "failover" {
  alias           = "prod"
  endpoint        = "https://failoverd.example.org:8443"
  token           = var.failover_token
  ca_cert_pem     = file("${path.module}/failoverd-ca.pem")
  request_timeout = "30s"
  max_retries     = 4
}

# A failoverd cluster, one node per site: a request goes to any live node
# (FAILOVER_ENDPOINT="url1,url2,url3" does the same from the environment),
# so terraform apply keeps working while any one site is down.
provider "failover" {
  alias = "cluster"
  endpoints = [
    "https://failoverd.dc1.example.org:8443",
    "https://failoverd.cloud.example.org:8443",
    "https://failoverd.arbiter.example.org:8443",
  ]
  token       = var.failover_token
  ca_cert_pem = file("${path.module}/failoverd-ca.pem")
}

variable "failover_token" {
  type      = string
  sensitive = true
}
