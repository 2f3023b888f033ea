variable "name_prefix" {
  description = "Prefix of every health-check name, usually the service and environment (e.g. \"payments-prod\"). Checks are named <name_prefix>-<site_name>-<zone>-<endpoint>."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.name_prefix))
    error_message = "name_prefix must be 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit (failoverd's name rule), e.g. \"payments-prod\"."
  }
}

variable "site_name" {
  description = "Name of the site (a data center or cloud region) the endpoints live in, e.g. \"chicago-dc\" or \"aws-use1\". It is the `site` of every check."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.site_name))
    error_message = "site_name must be 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit (failoverd's name rule), e.g. \"aws-use1\"."
  }
}

variable "zones" {
  description = <<-EOT
    The site's availability zones (or on-prem halls/racks), keyed by zone name, each with its
    endpoints keyed by endpoint name. `health_check_address` (host:port) is what failoverd probes;
    `addresses` are the IPs clients get while the site serves. Other zone attributes (such as
    `database_hosts`) are ignored here.
  EOT
  type = map(object({
    endpoints = optional(map(object({
      health_check_address = string
      addresses            = optional(list(string), [])
    })), {})
  }))
  nullable = false

  validation {
    condition     = length(var.zones) > 0
    error_message = "zones must not be empty: declare at least one zone, e.g. zones = { a = { endpoints = { web = { health_check_address = \"127.0.0.1:8081\", addresses = [\"192.0.2.10\"] } } } }."
  }

  validation {
    condition     = length([for z in keys(var.zones) : z if !can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", z))]) == 0
    error_message = join("\n", [for z in keys(var.zones) : "zones[${jsonencode(z)}]: a zone name must be 1–63 lower-case letters, digits and '-' (e.g. \"us-east-1a\" or \"hall-b\"): rename it." if !can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", z))])
  }

  validation {
    condition     = length(flatten([for z in values(var.zones) : keys(z.endpoints)])) > 0
    error_message = "The site has no endpoint to check: add at least one endpoint to one of its zones, e.g. endpoints = { web = { health_check_address = \"127.0.0.1:8081\", addresses = [\"192.0.2.10\"] } }."
  }

  validation {
    condition = length(flatten([
      for z, zone in var.zones : [for e in keys(zone.endpoints) : e if !can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", e))]
    ])) == 0
    error_message = join("\n", flatten([
      for z, zone in var.zones : [
        for e in keys(zone.endpoints) : "zones[${jsonencode(z)}].endpoints[${jsonencode(e)}]: an endpoint name must be 1–63 lower-case letters, digits and '-' (e.g. \"web\" or \"lb-1\"): rename it."
        if !can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", e))
      ]
    ]))
  }

  validation {
    condition = length(flatten([
      for z, zone in var.zones : [
        for e, endpoint in zone.endpoints : e if !can(regex("^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}$", endpoint.health_check_address))
      ]
    ])) == 0
    error_message = join("\n", flatten([
      for z, zone in var.zones : [
        for e, endpoint in zone.endpoints : "zones[${jsonencode(z)}].endpoints[${jsonencode(e)}].health_check_address is ${jsonencode(endpoint.health_check_address)}: write host:port without scheme or path, e.g. \"127.0.0.1:8081\", \"lb-a.example.org:443\" or \"[2001:db8::10]:443\"."
        if !can(regex("^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}$", endpoint.health_check_address))
      ]
    ]))
  }

  validation {
    condition = length(flatten([
      for z, zone in var.zones : [
        for e, endpoint in zone.endpoints : [for a in endpoint.addresses : a if !can(cidrhost("${a}/${strcontains(a, ":") ? 128 : 32}", 0))]
      ]
    ])) == 0
    error_message = join("\n", flatten([
      for z, zone in var.zones : [
        for e, endpoint in zone.endpoints : [
          for a in endpoint.addresses : "zones[${jsonencode(z)}].endpoints[${jsonencode(e)}].addresses holds ${jsonencode(a)}: list plain IPv4 or IPv6 addresses (what DNS answers), e.g. \"192.0.2.10\" or \"2001:db8::10\"; answer a host name with the site's cname instead."
          if !can(cidrhost("${a}/${strcontains(a, ":") ? 128 : 32}", 0))
        ]
      ]
    ]))
  }
}

variable "health_check" {
  description = <<-EOT
    How every endpoint of the site is probed. Attributes left null take failoverd's defaults
    (path "/", method GET, expected_status ["200-399"], every probing site, quorum majority).
    Detection of a dead endpoint takes at most fall × interval_seconds + timeout_seconds.
  EOT
  type = object({
    type             = optional(string, "http")
    path             = optional(string)
    method           = optional(string)
    host_header      = optional(string)
    headers          = optional(map(string))
    expected_status  = optional(list(string))
    body_match       = optional(object({ mode = string, value = string }))
    tls              = optional(object({ server_name = optional(string), ca_cert_pem = optional(string), insecure_skip_verify = optional(bool) }))
    interval_seconds = optional(number, 10)
    timeout_seconds  = optional(number, 2)
    rise             = optional(number, 2)
    fall             = optional(number, 3)
    probe_sites      = optional(set(string))
    quorum           = optional(string)
    enabled          = optional(bool, true)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["http", "https", "tcp"], var.health_check.type)
    error_message = "health_check.type must be \"http\", \"https\" or \"tcp\"."
  }

  validation {
    condition     = var.health_check.interval_seconds >= 1 && var.health_check.timeout_seconds > 0 && var.health_check.timeout_seconds < var.health_check.interval_seconds
    error_message = "health_check.interval_seconds must be at least 1, and health_check.timeout_seconds above 0 and less than interval_seconds (e.g. interval_seconds = 5, timeout_seconds = 2)."
  }

  validation {
    condition     = var.health_check.rise >= 1 && var.health_check.rise <= 100 && var.health_check.fall >= 1 && var.health_check.fall <= 100 && floor(var.health_check.rise) == var.health_check.rise && floor(var.health_check.fall) == var.health_check.fall
    error_message = "health_check.rise and health_check.fall must be whole numbers from 1 to 100 (consecutive successes / failures that change the state)."
  }

  validation {
    condition     = var.health_check.quorum == null || contains(["majority", "all", "any"], coalesce(var.health_check.quorum, "majority"))
    error_message = "health_check.quorum must be \"majority\", \"all\" or \"any\", or null for failoverd's default (majority)."
  }

  validation {
    condition     = var.health_check.body_match == null || contains(["exact", "contains", "regex"], try(var.health_check.body_match.mode, ""))
    error_message = "health_check.body_match.mode must be \"exact\", \"contains\" or \"regex\" (use exact for burst URLs: \"no-burst\" contains \"burst\")."
  }
}
