variable "service" {
  description = "Name of the service; the policy answers at <service>.<zone>."
  type        = string
  default     = "web"
}

variable "sites" {
  description = "Sites serving the service: the address failoverd probes, the addresses clients get, and the priority (1 = preferred)."
  type = map(object({
    health_address = string
    addresses      = list(string)
    priority       = number
  }))
  nullable = false

  validation {
    condition     = length([for s in values(var.sites) : s if s.priority == 1]) == 1
    error_message = "Exactly one site must have priority = 1 (the primary): set priority = 1 on the site that serves normally and 2, 3, … on the others."
  }
}

variable "failback_delay_seconds" {
  description = "How long a recovered primary must stay healthy before traffic returns to it."
  type        = number
  default     = 5
}
