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
    - `role`: "primary" (serves traffic and holds the database primary: its members get the
      highest priority), "secondary" (serves traffic, lower database priority) or "arbiter" (a
      third site holding only the replica set's arbiter, needed when only two sites carry data);
    - `weight`: the data site's share of DNS answers (0–1000, default 1; 0 drains it);
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
    weight = optional(number, 1)
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

  validation {
    condition     = alltrue([for s in keys(var.sites) : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", s))])
    error_message = "Every site name (the keys of sites) must be 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit, e.g. \"chicago-dc\" or \"aws-use1\": rename the sites that are not."
  }

  validation {
    condition     = alltrue([for s in values(var.sites) : contains(["primary", "secondary", "arbiter"], s.role)])
    error_message = "Every site's role must be \"primary\", \"secondary\" or \"arbiter\"."
  }

  validation {
    condition     = length([for s in values(var.sites) : s if s.role == "primary"]) == 1
    error_message = "Exactly one site must have role = \"primary\" (where the database primary should run): set it on one data site and role = \"secondary\" on the other data sites."
  }

  validation {
    condition     = length([for s in values(var.sites) : s if s.role != "arbiter"]) >= 2
    error_message = "At least two data sites are needed (one role = \"primary\" and one or more role = \"secondary\"): a replica set in a single site dies with it."
  }

  validation {
    condition = (
      length([for s in values(var.sites) : s if s.role == "arbiter"]) <= 1 &&
      (length([for s in values(var.sites) : s if s.role != "arbiter"]) > 2 || length([for s in values(var.sites) : s if s.role == "arbiter"]) == 1)
    )
    error_message = "With two data sites, exactly one site must have role = \"arbiter\" (a third site whose single vote breaks the tie when either data site is lost); with three or more data sites at most one arbiter site is allowed."
  }

  validation {
    condition     = alltrue([for s in values(var.sites) : s.weight >= 0 && s.weight <= 1000 && floor(s.weight) == s.weight])
    error_message = "Every site's weight must be a whole number from 0 to 1000 (its share of the answers; 0 drains it)."
  }

  validation {
    condition     = anytrue([for s in values(var.sites) : s.weight > 0 if s.role != "arbiter"])
    error_message = "At least one data site needs a weight above 0, or the policy never serves."
  }

  validation {
    condition     = alltrue([for s in values(var.sites) : length(s.zones) > 0])
    error_message = "Every site needs at least one zone: declare its availability zones (or halls/racks for an on-prem data center) in zones, e.g. zones = { a = { database_hosts = [\"db-a.example.org:27017\"] } }."
  }

  validation {
    condition     = alltrue(flatten([for s in values(var.sites) : [for z in keys(s.zones) : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", z))]]))
    error_message = "Every zone name must be 1–63 lower-case letters, digits and '-' (e.g. \"us-east-1a\", \"1\" or \"hall-b\"): rename the zones that are not."
  }

  validation {
    condition     = alltrue([for s in values(var.sites) : can(regex("^[a-z0-9][a-z0-9-]*$", s.kind)) && trimspace(s.region) != ""])
    error_message = "Every site needs a kind label of lower-case letters, digits and '-' (onprem, aws, gcp, azure, …) and a non-empty region (e.g. \"us-east-1\" or \"chicago\")."
  }

  validation {
    condition = alltrue(flatten([
      for a in values(var.sites) : [
        for d in values(var.sites) : lower("${a.kind}/${a.region}") != lower("${d.kind}/${d.region}") if d.role != "arbiter"
      ] if a.role == "arbiter"
    ]))
    error_message = "The arbiter site must be a failure domain distinct from every data site: its kind/region must differ from each data site's, or losing that region takes the tie-breaking vote with it. Move the arbiter to another region or provider."
  }

  validation {
    condition     = length(distinct([for s in values(var.sites) : lower("${s.kind}/${s.region}") if s.role != "arbiter"])) == length([for s in values(var.sites) : s if s.role != "arbiter"])
    error_message = "Data sites must be distinct failure domains: two data sites share the same kind/region. Put them in different regions (or providers), or merge them into one site with several zones."
  }

  validation {
    condition     = alltrue([for s in values(var.sites) : length(flatten([for z in values(s.zones) : z.database_hosts])) > 0 if s.role != "arbiter"])
    error_message = "Every data site (role primary or secondary) needs at least one database host: list them per zone in zones.<zone>.database_hosts."
  }

  validation {
    condition     = alltrue([for s in values(var.sites) : length([for z in values(s.zones) : z if length(z.database_hosts) > 0]) >= min(2, length(s.zones), length(flatten([for z in values(s.zones) : z.database_hosts]))) if s.role != "arbiter"])
    error_message = "A data site with two or more zones and two or more database hosts must spread the hosts over at least two zones, so losing one zone leaves members in the site: move a database host to another zone."
  }

  validation {
    condition     = alltrue([for s in values(var.sites) : length(flatten([for z in values(s.zones) : z.database_hosts])) == 1 if s.role == "arbiter"])
    error_message = "The arbiter site must list exactly one database host (the arbiter's mongod) in one of its zones."
  }

  validation {
    condition = alltrue(flatten([
      for s in values(var.sites) : [for z in values(s.zones) : [for h in z.database_hosts : can(regex("^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}$", h))]]
    ]))
    error_message = "Every database host must be host:port, e.g. \"mongo-a.example.org:27017\" (MongoDB's default port is 27017)."
  }

  validation {
    condition = (
      length(distinct([for h in flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]]) : lower(h)])) ==
      length(flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]]))
    )
    error_message = "A database host is listed twice: every member needs its own mongod (two members on one mongod are one failure domain counted twice). Remove or correct the duplicate."
  }

  validation {
    condition     = length(flatten([for s in values(var.sites) : [for z in values(s.zones) : z.database_hosts]])) <= 7
    error_message = "MongoDB allows at most 7 voting members and every database host here votes: list at most 7 database hosts in total (arbiter included)."
  }

  validation {
    condition = alltrue([
      for s in values(var.sites) : (
        length(flatten([for x in values(var.sites) : [for z in values(x.zones) : z.database_hosts]])) - length(flatten([for z in values(s.zones) : z.database_hosts]))
        >= floor(length(flatten([for x in values(var.sites) : [for z in values(x.zones) : z.database_hosts]])) / 2) + 1
      )
    ])
    error_message = "Losing any one site must leave a voting majority, but one site holds half or more of the votes (one per database host): give the data sites equal numbers of database hosts and add an arbiter site, or add hosts in the other sites."
  }

  validation {
    condition = alltrue(flatten([
      for s, site in var.sites : [
        for z, zone in site.zones : length("${s}-${z}-${length(zone.database_hosts)}") <= 63
      ]
    ]))
    error_message = "Member names are <site>-<zone>-<n> and must fit failoverd's 63 characters: shorten the site or zone names."
  }

  validation {
    condition     = alltrue([for s in values(var.sites) : length(flatten([for z in values(s.zones) : keys(z.endpoints)])) > 0 if s.role != "arbiter"])
    error_message = "Every data site (role primary or secondary) needs at least one endpoint to health-check and serve: add zones.<zone>.endpoints = { web = { health_check_address = \"127.0.0.1:8081\", addresses = [\"192.0.2.10\"] } }."
  }

  validation {
    condition     = alltrue([for s in values(var.sites) : length(flatten([for z in values(s.zones) : keys(z.endpoints)])) == 0 && s.cname == null if s.role == "arbiter"])
    error_message = "The arbiter site serves no traffic: remove its endpoints and cname (it only holds the arbiter's database host)."
  }

  validation {
    condition = alltrue(flatten([
      for s in values(var.sites) : [for z in values(s.zones) : [for e in keys(z.endpoints) : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", e))]]
    ]))
    error_message = "Every endpoint name must be 1–63 lower-case letters, digits and '-' (e.g. \"web\" or \"lb-1\"): rename the endpoints that are not."
  }

  validation {
    condition = alltrue(flatten([
      for s in values(var.sites) : [
        for z in values(s.zones) : [
          for e in values(z.endpoints) : can(regex("^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}$", e.health_check_address))
        ]
      ]
    ]))
    error_message = "Every health_check_address must be host:port without scheme or path, e.g. \"127.0.0.1:8081\" or \"lb-a.example.org:443\"."
  }

  validation {
    condition = alltrue(flatten([
      for s in values(var.sites) : [
        for z in values(s.zones) : [
          for e in values(z.endpoints) : [for a in e.addresses : can(cidrhost("${a}/${strcontains(a, ":") ? 128 : 32}", 0))]
        ]
      ]
    ]))
    error_message = "Every entry of an endpoint's addresses must be a plain IPv4 or IPv6 address (what DNS answers), e.g. \"192.0.2.10\"; put a load balancer's host name in the site's cname instead."
  }

  validation {
    condition = alltrue([
      for s in values(var.sites) : (
        (s.cname == null) != (length(flatten([for z in values(s.zones) : [for e in values(z.endpoints) : e.addresses]])) == 0)
      ) if s.role != "arbiter"
    ])
    error_message = "Every data site must give clients exactly one kind of answer: addresses on its endpoints, or a cname on the site (e.g. a cloud load balancer's name) with no endpoint addresses."
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
  description = "What DNS answers when no site is up: answer = \"fail_open\" (every enabled site anyway), \"fail_closed\" (nothing) or \"fallback\" (the given addresses or cname, e.g. a static \"we'll be right back\" page)."
  type = object({
    answer    = string
    addresses = optional(list(string), [])
    cname     = optional(string)
  })
  default  = { answer = "fail_open" }
  nullable = false

  validation {
    condition     = contains(["fail_open", "fail_closed", "fallback"], var.when_all_down.answer)
    error_message = "when_all_down.answer must be \"fail_open\", \"fail_closed\" or \"fallback\"."
  }

  validation {
    condition = (
      var.when_all_down.answer == "fallback"
      ? (length(var.when_all_down.addresses) > 0) != (var.when_all_down.cname != null)
      : length(var.when_all_down.addresses) == 0 && var.when_all_down.cname == null
    )
    error_message = "With answer = \"fallback\" set exactly one of addresses (e.g. [\"203.0.113.50\"]) and cname; with fail_open or fail_closed set neither."
  }
}
