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
    condition     = !alltrue([for s in values(var.sites) : contains(["primary", "secondary", "arbiter"], s.role)]) || length([for k, s in var.sites : k if s.role != "arbiter"]) >= 2
    error_message = "At least two data sites are needed (one role = \"primary\" and one or more role = \"secondary\"), but ${length([for k, s in var.sites : k if s.role != "arbiter"]) == 0 ? "there is none" : "only ${join(", ", formatlist("sites[%q]", [for k, s in var.sites : k if s.role != "arbiter"]))} carries data"}: a replica set in a single site dies with it."
  }

  validation {
    condition     = !alltrue([for s in values(var.sites) : contains(["primary", "secondary", "arbiter"], s.role)]) || (length([for k, s in var.sites : k if s.role == "arbiter"]) <= 1 && (length([for k, s in var.sites : k if s.role != "arbiter"]) > 2 || length([for k, s in var.sites : k if s.role == "arbiter"]) == 1))
    error_message = "With two data sites exactly one site must have role = \"arbiter\" (a third site whose single vote breaks the tie when either data site is lost); with three or more data sites at most one arbiter site is allowed. Arbiter sites now: ${length([for k, s in var.sites : k if s.role == "arbiter"]) == 0 ? "none" : join(", ", formatlist("sites[%q]", [for k, s in var.sites : k if s.role == "arbiter"]))}."
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
}

variable "database_priorities" {
  description = "MongoDB election priorities of the data members: every member in the primary site gets `primary`, every member in a secondary site `secondary`; arbiters always get 0. primary > secondary keeps the primary in the primary site while one of its members is up."
  type = object({
    primary   = optional(number, 2)
    secondary = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.database_priorities.secondary > 0 && var.database_priorities.primary > var.database_priorities.secondary && var.database_priorities.primary <= 1000
    error_message = "database_priorities must satisfy 0 < secondary < primary <= 1000 (e.g. primary = 2, secondary = 1), but primary = ${var.database_priorities.primary} and secondary = ${var.database_priorities.secondary}: secondaries must stay electable, and the primary site must be preferred."
  }
}

variable "require_majority_writes_after_site_loss" {
  description = "Fail the plan when losing any one site leaves an election possible but not w:\"majority\" writes (for example 2 + 2 data members and an arbiter: a site loss leaves 2 data-bearing voters against a write majority of 3). false (the default) plans such a layout with a warning; see site_loss[*].majority_writes."
  type        = bool
  default     = false
  nullable    = false
}

variable "database_health_checks" {
  description = "Create a tcp failover_health_check per member (probing its database host) and link it, so failover_replica_set_status reports which members are up. Leave false when failoverd cannot reach the database hosts."
  type        = bool
  default     = false
  nullable    = false
}

variable "health_check" {
  description = "How the members' tcp health checks probe (only with database_health_checks = true): the same timing attributes as the composite modules' health_check."
  type = object({
    interval_seconds = optional(number, 10)
    timeout_seconds  = optional(number, 2)
    rise             = optional(number, 2)
    fall             = optional(number, 3)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.health_check.interval_seconds >= 1 && var.health_check.timeout_seconds > 0 && var.health_check.timeout_seconds < var.health_check.interval_seconds
    error_message = "health_check.interval_seconds must be at least 1, and health_check.timeout_seconds above 0 and less than interval_seconds (e.g. interval_seconds = 5, timeout_seconds = 2), but they are ${var.health_check.interval_seconds} and ${var.health_check.timeout_seconds}."
  }

  validation {
    condition     = var.health_check.rise >= 1 && var.health_check.rise <= 100 && var.health_check.fall >= 1 && var.health_check.fall <= 100 && floor(var.health_check.rise) == var.health_check.rise && floor(var.health_check.fall) == var.health_check.fall
    error_message = "health_check.rise and health_check.fall must be whole numbers from 1 to 100 (consecutive successes / failures that change the state), but they are ${var.health_check.rise} and ${var.health_check.fall}."
  }
}
