variable "name" {
  description = "Name of the service in this environment, e.g. \"payments-prod\": the traffic policy's name (failoverd answers <name>.<zone>), the default replica-set name and the prefix of every health check and of the burst toggle."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit (failoverd's name rule), e.g. \"payments-prod\"."
  }
}

variable "sites" {
  description = <<-EOT
    The sites, keyed by site name (a failure domain: an on-prem data center or a cloud region),
    described provider-agnostically so the same module serves either:
    - `kind`: a label (onprem, aws, gcp, azure, …); `region`: where the site is;
    - `role`: "primary" (serves traffic; its database members get the highest priority),
      "secondary" (the passive site traffic fails over to, optionally the burst capacity) or
      "arbiter" (a third site holding only the replica set's arbiter);
    - `zones`, keyed by availability zone (or hall/rack on-prem), each with its `endpoints`
      (keyed by endpoint name: `health_check_address` host:port that failoverd probes, and
      `addresses`, the IPs clients get while the site serves) and its `database_hosts`
      (mongod host:port, one data member each; the arbiter site lists exactly one);
    - `cname`: answer this host name instead of the endpoints' addresses (e.g. a cloud load
      balancer's DNS name); then the endpoints carry no addresses.
  EOT
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

  # Every rule names what is at fault (sites["x"], sites["x"].zones["y"], …),
  # one line each, so a mistake in a large sites map is found at once. Rules
  # that count roles wait until every role is valid: a misspelt role is
  # reported once, not again as a missing primary or arbiter.
  validation {
    condition     = length([for k, s in var.sites : k if !can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", k))]) == 0
    error_message = join("\n", [for k, s in var.sites : "sites[${jsonencode(k)}]: a site name must be 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. \"chicago-dc\" or \"aws-use1\"): rename it." if !can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", k))])
  }

  validation {
    condition     = length([for k, s in var.sites : k if !contains(["primary", "secondary", "arbiter"], s.role)]) == 0
    error_message = join("\n", [for k, s in var.sites : "sites[${jsonencode(k)}].role is ${jsonencode(s.role)}: set \"primary\", \"secondary\" or \"arbiter\"." if !contains(["primary", "secondary", "arbiter"], s.role)])
  }

  validation {
    condition     = !alltrue([for s in values(var.sites) : contains(["primary", "secondary", "arbiter"], s.role)]) || length([for k, s in var.sites : k if s.role == "primary"]) == 1
    error_message = "Exactly one site must have role = \"primary\" (where the database primary should run), but ${length([for k, s in var.sites : k if s.role == "primary"]) == 0 ? "none has" : "${join(", ", formatlist("sites[%q]", [for k, s in var.sites : k if s.role == "primary"]))} have"} it: set it on one data site and role = \"secondary\" on the other data sites."
  }

  validation {
    condition     = !alltrue([for s in values(var.sites) : contains(["primary", "secondary", "arbiter"], s.role)]) || length([for k, s in var.sites : k if s.role == "secondary"]) == 1
    error_message = "Active-passive needs exactly one site with role = \"secondary\" (the passive site traffic fails over to), but ${length([for k, s in var.sites : k if s.role == "secondary"]) == 0 ? "none has" : "${join(", ", formatlist("sites[%q]", [for k, s in var.sites : k if s.role == "secondary"]))} have"} it; with more data sites use the active-active module."
  }

  validation {
    condition     = !alltrue([for s in values(var.sites) : contains(["primary", "secondary", "arbiter"], s.role)]) || length([for k, s in var.sites : k if s.role == "arbiter"]) == 1
    error_message = "Active-passive needs exactly one site with role = \"arbiter\" (a third site whose single vote lets the database elect a primary when either data site is lost), but ${length([for k, s in var.sites : k if s.role == "arbiter"]) == 0 ? "none has" : "${join(", ", formatlist("sites[%q]", [for k, s in var.sites : k if s.role == "arbiter"]))} have"} it."
  }

  validation {
    condition     = length([for k, s in var.sites : k if length(s.zones) == 0]) == 0
    error_message = join("\n", [for k, s in var.sites : "sites[${jsonencode(k)}].zones is empty: declare its availability zones (or halls/racks for an on-prem data center), e.g. zones = { a = { database_hosts = [\"db-a.example.org:27017\"] } }." if length(s.zones) == 0])
  }

  validation {
    condition     = length(flatten([for k, s in var.sites : [for z in keys(s.zones) : z if !can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", z))]])) == 0
    error_message = join("\n", flatten([for k, s in var.sites : [for z in keys(s.zones) : "sites[${jsonencode(k)}].zones[${jsonencode(z)}]: a zone name must be 1–63 lower-case letters, digits and '-' (e.g. \"us-east-1a\", \"1\" or \"hall-b\"): rename it." if !can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", z))]]))
  }

  validation {
    condition     = length([for k, s in var.sites : k if !(can(regex("^[a-z0-9][a-z0-9-]*$", s.kind)) && trimspace(s.region) != "")]) == 0
    error_message = join("\n", [for k, s in var.sites : "sites[${jsonencode(k)}] has kind = ${jsonencode(s.kind)} and region = ${jsonencode(s.region)}: kind must be a label of lower-case letters, digits and '-' (onprem, aws, gcp, azure, …) and region must not be empty (e.g. \"us-east-1\" or \"chicago\")." if !(can(regex("^[a-z0-9][a-z0-9-]*$", s.kind)) && trimspace(s.region) != "")])
  }

  validation {
    condition     = length(flatten([for a, as in var.sites : [for k, s in var.sites : k if contains(["primary", "secondary"], s.role) && lower("${as.kind}/${as.region}") == lower("${s.kind}/${s.region}")] if as.role == "arbiter"])) == 0
    error_message = join("\n", flatten([for a, as in var.sites : [for k, s in var.sites : "sites[${jsonencode(a)}] (the arbiter) and data site sites[${jsonencode(k)}] are both ${lower("${s.kind}/${s.region}")}: losing that region would take the tie-breaking vote with it; move the arbiter to another region or provider." if contains(["primary", "secondary"], s.role) && lower("${as.kind}/${as.region}") == lower("${s.kind}/${s.region}")] if as.role == "arbiter"]))
  }

  validation {
    condition     = length(flatten([for a, as in var.sites : [for k, s in var.sites : k if contains(["primary", "secondary"], s.role) && index(keys(var.sites), a) < index(keys(var.sites), k) && lower("${as.kind}/${as.region}") == lower("${s.kind}/${s.region}")] if contains(["primary", "secondary"], as.role)])) == 0
    error_message = join("\n", flatten([for a, as in var.sites : [for k, s in var.sites : "Data sites sites[${jsonencode(a)}] and sites[${jsonencode(k)}] are both ${lower("${s.kind}/${s.region}")}, one failure domain: put them in different regions (or providers), or merge them into one site with several zones." if contains(["primary", "secondary"], s.role) && index(keys(var.sites), a) < index(keys(var.sites), k) && lower("${as.kind}/${as.region}") == lower("${s.kind}/${s.region}")] if contains(["primary", "secondary"], as.role)]))
  }

  validation {
    condition     = length([for k, s in var.sites : k if contains(["primary", "secondary"], s.role) && length(flatten([for z in values(s.zones) : z.database_hosts])) == 0]) == 0
    error_message = join("\n", [for k, s in var.sites : "sites[${jsonencode(k)}] (role ${s.role}) has no database host: list its mongod hosts per zone in zones.<zone>.database_hosts." if contains(["primary", "secondary"], s.role) && length(flatten([for z in values(s.zones) : z.database_hosts])) == 0])
  }

  validation {
    condition     = length([for k, s in var.sites : k if contains(["primary", "secondary"], s.role) && length([for z in values(s.zones) : z if length(z.database_hosts) > 0]) < min(2, length(s.zones), length(flatten([for z in values(s.zones) : z.database_hosts])))]) == 0
    error_message = join("\n", [for k, s in var.sites : "sites[${jsonencode(k)}] has all its ${length(flatten([for z in values(s.zones) : z.database_hosts]))} database hosts in one of its ${length(s.zones)} zones: spread them over at least two zones, so losing one zone leaves members in the site." if contains(["primary", "secondary"], s.role) && length([for z in values(s.zones) : z if length(z.database_hosts) > 0]) < min(2, length(s.zones), length(flatten([for z in values(s.zones) : z.database_hosts])))])
  }

  validation {
    condition     = length([for k, s in var.sites : k if s.role == "arbiter" && length(flatten([for z in values(s.zones) : z.database_hosts])) != 1]) == 0
    error_message = join("\n", [for k, s in var.sites : "sites[${jsonencode(k)}] is the arbiter site but lists ${length(flatten([for z in values(s.zones) : z.database_hosts]))} database hosts: list exactly one (the arbiter's mongod)." if s.role == "arbiter" && length(flatten([for z in values(s.zones) : z.database_hosts])) != 1])
  }

  validation {
    condition     = length(flatten([for k, s in var.sites : [for z, zone in s.zones : [for h in zone.database_hosts : h if !can(regex("^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}$", h))]]])) == 0
    error_message = join("\n", flatten([for k, s in var.sites : [for z, zone in s.zones : [for h in zone.database_hosts : "sites[${jsonencode(k)}].zones[${jsonencode(z)}].database_hosts holds ${jsonencode(h)}: write host:port, e.g. \"mongo-a.example.org:27017\" (MongoDB's default port is 27017)." if !can(regex("^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}$", h))]]]))
  }

  validation {
    condition     = length([for h, at in { for x in flatten([for k, s in var.sites : [for z, zone in s.zones : [for h in zone.database_hosts : { host = lower(h), at = "sites[${jsonencode(k)}].zones[${jsonencode(z)}]" }]]]) : x.host => x.at... } : h if length(at) > 1]) == 0
    error_message = join("\n", [for h, at in { for x in flatten([for k, s in var.sites : [for z, zone in s.zones : [for h in zone.database_hosts : { host = lower(h), at = "sites[${jsonencode(k)}].zones[${jsonencode(z)}]" }]]]) : x.host => x.at... } : "Database host ${jsonencode(h)} is listed ${length(at)} times (${join(", ", at)}): every member needs its own mongod (two members on one mongod are one failure domain counted twice); remove or correct the duplicate." if length(at) > 1])
  }

  validation {
    condition     = length(flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]])) <= 7
    error_message = "MongoDB allows at most 7 voting members and every database host here votes, but sites list ${length(flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]]))}: list at most 7 database hosts in total (arbiter included)."
  }

  validation {
    condition     = length([for k, s in var.sites : k if length(flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]])) - length(flatten([for z in values(s.zones) : z.database_hosts])) < floor(length(flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]])) / 2) + 1]) == 0
    error_message = join("\n", [for k, s in var.sites : "Losing sites[${jsonencode(k)}] (${length(flatten([for z in values(s.zones) : z.database_hosts]))} of ${length(flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]]))} votes, one per database host) leaves ${length(flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]])) - length(flatten([for z in values(s.zones) : z.database_hosts]))}, short of the majority ${floor(length(flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]])) / 2) + 1}: give the data sites equal numbers of database hosts and add an arbiter site, or add hosts in the other sites." if length(flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]])) - length(flatten([for z in values(s.zones) : z.database_hosts])) < floor(length(flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]])) / 2) + 1])
  }

  validation {
    condition     = length(flatten([for k, s in var.sites : [for z, zone in s.zones : z if length("${k}-${z}-${length(zone.database_hosts)}") > 63]])) == 0
    error_message = join("\n", flatten([for k, s in var.sites : [for z, zone in s.zones : "sites[${jsonencode(k)}].zones[${jsonencode(z)}]: member names are <site>-<zone>-<n> (\"${k}-${z}-${length(zone.database_hosts)}\") and must fit failoverd's 63 characters: shorten the site or zone name." if length("${k}-${z}-${length(zone.database_hosts)}") > 63]]))
  }

  validation {
    condition     = length([for k, s in var.sites : k if contains(["primary", "secondary"], s.role) && length(flatten([for z in values(s.zones) : keys(z.endpoints)])) == 0]) == 0
    error_message = join("\n", [for k, s in var.sites : "sites[${jsonencode(k)}] (role ${s.role}) has no endpoint to health-check and serve: add zones.<zone>.endpoints = { web = { health_check_address = \"127.0.0.1:8081\", addresses = [\"192.0.2.10\"] } }." if contains(["primary", "secondary"], s.role) && length(flatten([for z in values(s.zones) : keys(z.endpoints)])) == 0])
  }

  validation {
    condition     = length([for k, s in var.sites : k if s.role == "arbiter" && (length(flatten([for z in values(s.zones) : keys(z.endpoints)])) > 0 || s.cname != null)]) == 0
    error_message = join("\n", [for k, s in var.sites : "sites[${jsonencode(k)}] is the arbiter site, which serves no traffic: remove its endpoints and cname (it only holds the arbiter's database host)." if s.role == "arbiter" && (length(flatten([for z in values(s.zones) : keys(z.endpoints)])) > 0 || s.cname != null)])
  }

  validation {
    condition     = length(flatten([for k, s in var.sites : [for z, zone in s.zones : [for e in keys(zone.endpoints) : e if !can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", e))]]])) == 0
    error_message = join("\n", flatten([for k, s in var.sites : [for z, zone in s.zones : [for e in keys(zone.endpoints) : "sites[${jsonencode(k)}].zones[${jsonencode(z)}].endpoints[${jsonencode(e)}]: an endpoint name must be 1–63 lower-case letters, digits and '-' (e.g. \"web\" or \"lb-1\"): rename it." if !can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", e))]]]))
  }

  validation {
    condition     = length(flatten([for k, s in var.sites : [for z, zone in s.zones : [for e, ep in zone.endpoints : e if !can(regex("^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}$", ep.health_check_address))]]])) == 0
    error_message = join("\n", flatten([for k, s in var.sites : [for z, zone in s.zones : [for e, ep in zone.endpoints : "sites[${jsonencode(k)}].zones[${jsonencode(z)}].endpoints[${jsonencode(e)}].health_check_address is ${jsonencode(ep.health_check_address)}: write host:port without scheme or path, e.g. \"127.0.0.1:8081\" or \"lb-a.example.org:443\"." if !can(regex("^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}$", ep.health_check_address))]]]))
  }

  validation {
    condition     = length(flatten([for k, s in var.sites : [for z, zone in s.zones : [for e, ep in zone.endpoints : [for a in ep.addresses : a if !can(cidrhost("${a}/${strcontains(a, ":") ? 128 : 32}", 0))]]]])) == 0
    error_message = join("\n", flatten([for k, s in var.sites : [for z, zone in s.zones : [for e, ep in zone.endpoints : [for a in ep.addresses : "sites[${jsonencode(k)}].zones[${jsonencode(z)}].endpoints[${jsonencode(e)}].addresses holds ${jsonencode(a)}: list plain IPv4 or IPv6 addresses (what DNS answers), e.g. \"192.0.2.10\"; answer a load balancer's host name with the site's cname instead." if !can(cidrhost("${a}/${strcontains(a, ":") ? 128 : 32}", 0))]]]]))
  }

  validation {
    condition     = length([for k, s in var.sites : k if contains(["primary", "secondary"], s.role) && (s.cname == null) == (length(flatten([for z in values(s.zones) : [for e in values(z.endpoints) : e.addresses]])) == 0)]) == 0
    error_message = join("\n", [for k, s in var.sites : "sites[${jsonencode(k)}] ${s.cname == null ? "has neither endpoint addresses nor a cname" : "has both endpoint addresses and a cname"}: give clients exactly one kind of answer, addresses on its endpoints or a cname on the site (e.g. a cloud load balancer's name) with no endpoint addresses." if contains(["primary", "secondary"], s.role) && (s.cname == null) == (length(flatten([for z in values(s.zones) : [for e in values(z.endpoints) : e.addresses]])) == 0)])
  }
}

variable "health_check" {
  description = <<-EOT
    How every endpoint is probed (see the site-health module). Attributes left null take
    failoverd's defaults. Detection takes at most fall × interval_seconds + timeout_seconds, the
    first term of worst_case_failover_seconds.
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
    condition     = var.health_check.rise >= 1 && var.health_check.rise <= 100 && var.health_check.fall >= 1 && var.health_check.fall <= 100
    error_message = "health_check.rise and health_check.fall must be from 1 to 100."
  }
}

variable "replica_set_name" {
  description = "Name of the replica set (the MongoDB replSetName). Default: name."
  type        = string
  default     = null

  validation {
    condition     = var.replica_set_name == null || can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", coalesce(var.replica_set_name, "x")))
    error_message = "replica_set_name must be 1–63 lower-case letters, digits and '-', or null to use name."
  }
}

variable "database_priorities" {
  description = "MongoDB election priorities: `primary` for every member of the primary site, `secondary` for the other data sites' members (arbiter: 0). primary > secondary keeps the database primary where traffic goes."
  type = object({
    primary   = optional(number, 2)
    secondary = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.database_priorities.secondary > 0 && var.database_priorities.primary > var.database_priorities.secondary && var.database_priorities.primary <= 1000
    error_message = "database_priorities must satisfy 0 < secondary < primary <= 1000 (e.g. primary = 2, secondary = 1)."
  }
}

variable "database_health_checks" {
  description = "Create a tcp health check per database member (probing its host) so failover_replica_set_status can tell which members are up. Leave false when failoverd cannot reach the database hosts."
  type        = bool
  default     = false
  nullable    = false
}

variable "min_healthy_zones" {
  description = "How many zones (each zone's endpoints with addresses are one endpoint of the site's target) must be up for a site to keep serving. While at least this many are up, losing a zone only drops its addresses from the DNS answer; below it the site is down and traffic fails over. Ignored for a site answered by cname."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.min_healthy_zones >= 1 && floor(var.min_healthy_zones) == var.min_healthy_zones
    error_message = "min_healthy_zones must be a whole number of at least 1 (and at most the number of zones with addresses in each site)."
  }
}

variable "ttl_seconds" {
  description = "TTL of the DNS answers, in seconds (0–86400); the last term of worst_case_failover_seconds."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.ttl_seconds >= 0 && var.ttl_seconds <= 86400 && floor(var.ttl_seconds) == var.ttl_seconds
    error_message = "ttl_seconds must be a whole number from 0 to 86400."
  }
}

variable "failover_delay_seconds" {
  description = "Seconds a serving site must stay down before traffic leaves it (0: at the first unhealthy transition)."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.failover_delay_seconds >= 0 && floor(var.failover_delay_seconds) == var.failover_delay_seconds
    error_message = "failover_delay_seconds must be a whole number of seconds, 0 or more."
  }
}

variable "failback_delay_seconds" {
  description = "Seconds a recovered site must stay up before traffic returns to it."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.failback_delay_seconds >= 0 && floor(var.failback_delay_seconds) == var.failback_delay_seconds
    error_message = "failback_delay_seconds must be a whole number of seconds, 0 or more."
  }
}

variable "failback" {
  description = "\"auto\": traffic returns to a recovered site after failback_delay_seconds; \"manual\": only when an operator moves it back."
  type        = string
  default     = "auto"
  nullable    = false

  validation {
    condition     = contains(["auto", "manual"], var.failback)
    error_message = "failback must be \"auto\" or \"manual\"."
  }
}

variable "rto_seconds" {
  description = "Recovery time objective in seconds: plan and apply fail when worst_case_failover_seconds exceeds it. null: none."
  type        = number
  default     = null

  validation {
    condition     = var.rto_seconds == null || try(var.rto_seconds > 0 && floor(var.rto_seconds) == var.rto_seconds, false)
    error_message = "rto_seconds must be a whole number of seconds above 0, or null for no objective."
  }
}

variable "when_all_down" {
  description = "What DNS answers when no site is up, as on failover_traffic_policy: \"fail_open\" (every enabled site anyway), \"fail_closed\" (nothing) or \"fallback\" (the fallback input's addresses or cname, e.g. a static \"we'll be right back\" page)."
  type        = string
  default     = "fail_open"
  nullable    = false

  validation {
    condition     = contains(["fail_open", "fail_closed", "fallback"], var.when_all_down)
    error_message = "when_all_down is ${jsonencode(var.when_all_down)}: set \"fail_open\", \"fail_closed\" or \"fallback\"."
  }
}

variable "fallback" {
  description = "The answer while no site is up, with when_all_down = \"fallback\" (and only then), as on failover_traffic_policy: `addresses` (IPs) or `cname`, e.g. { addresses = [\"203.0.113.50\"] }."
  type = object({
    addresses = optional(list(string))
    cname     = optional(string)
  })
  default = null

  validation {
    condition     = var.fallback == null || try((var.fallback.addresses != null) != (var.fallback.cname != null), false)
    error_message = "fallback needs exactly one of addresses (e.g. [\"203.0.113.50\"]) and cname (e.g. \"sorry.example.net\")."
  }

  validation {
    condition     = var.fallback == null || try(alltrue([for a in coalesce(var.fallback.addresses, []) : can(cidrhost("${a}/${strcontains(a, ":") ? 128 : 32}", 0))]), false)
    error_message = "fallback.addresses must be plain IPv4 or IPv6 addresses (what DNS answers), e.g. [\"203.0.113.50\"]; answer a host name with fallback.cname instead."
  }
}

variable "burst" {
  description = <<-EOT
    Burstable DR: null (the default) for none. Otherwise a failover_burst_toggle is created on the
    secondary site, and the secondary also becomes a burst_only target of the policy, so while the
    toggle is engaged DNS serves the primary and the secondary together ("Prod to Prod+"). Point
    the secondary site's load balancer health check at the burst_url output: 200 `burst` while
    engaged, 503 `no-burst` otherwise.
    - `name`: the toggle's name (default "<name>-burst"), the last segment of its URL;
    - `schedule`: windows (RFC 3339 `start`/`end`) during which it is engaged, e.g. Black Friday;
    - `expires_at`: RFC 3339 time after which it is released whatever else says;
    - `engaged`: leave null so operators own the switch (`failoverd burst engage|release`) and
      Terraform never reverts their flip; true/false makes Terraform enforce it;
    - `body_engaged` / `body_released`: the URL's bodies (default `burst` / `no-burst`).
  EOT
  type = object({
    name = optional(string)
    schedule = optional(list(object({
      start = string
      end   = string
    })), [])
    expires_at    = optional(string)
    engaged       = optional(bool)
    body_engaged  = optional(string)
    body_released = optional(string)
  })
  default = null

  validation {
    condition     = var.burst == null || try(var.burst.name == null || can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.burst.name)), false)
    error_message = "burst.name must be 1–63 lower-case letters, digits and '-', or null for \"<name>-burst\"."
  }

  validation {
    condition     = var.burst == null || try(alltrue([for w in var.burst.schedule : timecmp(w.end, w.start) > 0]), false)
    error_message = "Every burst.schedule window needs RFC 3339 start and end times with end after start, e.g. { start = \"2026-11-27T00:00:00Z\", end = \"2026-12-01T06:00:00Z\" }."
  }

  validation {
    condition     = var.burst == null || try(var.burst.expires_at == null || can(timecmp(var.burst.expires_at, var.burst.expires_at)), false)
    error_message = "burst.expires_at must be an RFC 3339 time such as \"2026-12-01T12:00:00Z\", or null for no expiry."
  }

  validation {
    condition     = var.burst == null || try(var.burst.body_engaged == null || var.burst.body_released == null || var.burst.body_engaged != var.burst.body_released, false)
    error_message = "burst.body_engaged and burst.body_released must differ, or the load balancer cannot tell engaged from released."
  }
}

variable "publish" {
  description = <<-EOT
    Mirror the policy's decisions into DNS servers failoverd does not run, as on failover_traffic_policy:
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
