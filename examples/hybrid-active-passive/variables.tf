variable "name" {
  description = "Name of the service in this environment (the traffic policy's name, the replica set's name and the prefix of every check), e.g. \"payments-dev\"."
  type        = string
  nullable    = false
}

variable "sites" {
  description = "The sites, as the active-passive module takes them: kind label, region, role (primary, secondary, arbiter), and per zone the endpoints (health-check host:port and client addresses) and database hosts."
  type = map(object({
    kind   = string
    region = string
    role   = string
    cname  = optional(string)
    zones = map(object({
      endpoints = optional(map(object({
        health_check_address = string
        addresses            = optional(list(string), [])
      })), {})
      database_hosts = optional(list(string), [])
    }))
  }))
  nullable = false
}

variable "health_check_addresses" {
  description = "Overrides of endpoints' health-check addresses (host:port), keyed by \"<site>/<zone>/<endpoint>\"; empty keeps the tfvars' loopback placeholders. Tests pass the addresses of their stand-in backends here with -var."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "health_check" {
  description = "How every endpoint is probed (see the active-passive module's health_check)."
  type = object({
    type             = optional(string, "http")
    path             = optional(string)
    interval_seconds = optional(number, 10)
    timeout_seconds  = optional(number, 2)
    rise             = optional(number, 2)
    fall             = optional(number, 3)
  })
  default  = {}
  nullable = false
}

variable "ttl_seconds" {
  description = "TTL of the DNS answers, in seconds."
  type        = number
  default     = 30
  nullable    = false
}

variable "failover_delay_seconds" {
  description = "Seconds the primary must stay down before traffic leaves it."
  type        = number
  default     = 0
  nullable    = false
}

variable "failback_delay_seconds" {
  description = "Seconds a recovered primary must stay up before traffic returns to it."
  type        = number
  default     = 60
  nullable    = false
}

variable "rto_seconds" {
  description = "Recovery time objective: plan fails when the worst-case failover exceeds it. null: none."
  type        = number
  default     = null
}

variable "when_all_down" {
  description = "What DNS answers when no site is up: \"fail_open\", \"fail_closed\" or \"fallback\" (see the active-passive module)."
  type        = string
  default     = "fail_open"
  nullable    = false
}

variable "fallback" {
  description = "The answer while no site is up, with when_all_down = \"fallback\": addresses or cname (see the active-passive module)."
  type = object({
    addresses = optional(list(string))
    cname     = optional(string)
  })
  default = null
}

variable "publish" {
  description = <<-EOT
    Mirror the payments policy's decisions into DNS servers failoverd does not run, as on failover_traffic_policy:
    `rfc2136 = { server, zone, record_name, tsig_key }` (TSIG-signed dynamic update; the secret stays in
    failoverd's --tsig-keys file) and/or `route53 = { zone_id, record_name, set_identifier }` (credentials
    from failoverd's AWS default chain). null: failoverd's own zone only.
  EOT
  type = object({
    rfc2136 = optional(object({
      server      = string
      zone        = string
      record_name = string
      tsig_key    = string
    }))
    route53 = optional(object({
      zone_id        = string
      record_name    = string
      set_identifier = optional(string)
    }))
  })
  default = null

  validation {
    condition     = var.publish == null || try(var.publish.rfc2136 != null || var.publish.route53 != null, false)
    error_message = "publish names no destination: set rfc2136 = { ... } and/or route53 = { ... }, or leave publish null."
  }
}
