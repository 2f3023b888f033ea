variable "name" {
  description = "Name of the replica set in failoverd; also the MongoDB replica-set _id (replication.replSetName of every mongod)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit (failoverd's name rule), e.g. \"orders-prod\"."
  }
}

variable "sites" {
  description = <<-EOT
    The sites, keyed by site name (a failure domain: an on-prem data center or a cloud region),
    described provider-agnostically: `kind` is a label (onprem, aws, gcp, azure, …), `region` where
    it is, `role` one of primary (the site whose members get the highest priority, where the
    primary should run), secondary (data-bearing, lower priority) or arbiter (one vote, no data),
    and `zones`, keyed by availability zone (or hall/rack), each listing the `database_hosts`
    (mongod host:port) placed in it. Data members are created one per database host, so they are
    spread over the zones exactly as listed. The arbiter site lists exactly one host. Other zone
    attributes (such as `endpoints`) are ignored here.
  EOT
  type = map(object({
    kind   = string
    region = string
    role   = string
    zones = map(object({
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
}

variable "priorities" {
  description = "MongoDB election priorities of the data members: every member in the primary site gets `primary`, every member in a secondary site `secondary`; arbiters always get 0. primary > secondary keeps the primary in the primary site while one of its members is up."
  type = object({
    primary   = optional(number, 2)
    secondary = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.priorities.secondary > 0 && var.priorities.primary > var.priorities.secondary && var.priorities.primary <= 1000
    error_message = "priorities must satisfy 0 < secondary < primary <= 1000 (e.g. primary = 2, secondary = 1): secondaries must stay electable, and the primary site must be preferred."
  }
}

variable "health_check_members" {
  description = "Create a tcp failover_health_check per member (probing its database host) and link it, so failover_replica_set_status reports which members are up. Leave false when failoverd cannot reach the database hosts."
  type        = bool
  default     = false
  nullable    = false
}

variable "member_check" {
  description = "Timings of the members' tcp health checks (only with health_check_members = true)."
  type = object({
    interval_seconds = optional(number, 10)
    timeout_seconds  = optional(number, 2)
    rise             = optional(number, 2)
    fall             = optional(number, 3)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.member_check.interval_seconds >= 1 && var.member_check.timeout_seconds > 0 && var.member_check.timeout_seconds < var.member_check.interval_seconds && var.member_check.rise >= 1 && var.member_check.fall >= 1
    error_message = "member_check needs interval_seconds >= 1, 0 < timeout_seconds < interval_seconds, and rise and fall of at least 1."
  }
}
