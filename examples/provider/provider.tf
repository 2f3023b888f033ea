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

variable "failover_token" {
  type      = string
  sensitive = true
}
