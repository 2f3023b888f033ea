# The OrderGroove layout: equal data members in two data centers, spread
# over their zones, and an arbiter in a third site, so the replica set
# keeps a voting majority when any one site is lost. The primary stays in
# chicago (higher priority), where traffic goes. Plan fails on a layout
# that would lose the majority with one site.
resource "failover_replica_set" "orders" {
  name = "orders"

  members = {
    chi-1 = { host = "mongo-chi-1.example.org:27017", site = "chicago", zone = "a", priority = 2 }
    chi-2 = { host = "mongo-chi-2.example.org:27017", site = "chicago", zone = "b", priority = 2 }
    va-1  = { host = "mongo-va-1.example.org:27017", site = "virginia", zone = "a", priority = 1 }
    va-2  = { host = "mongo-va-2.example.org:27017", site = "virginia", zone = "b", priority = 1 }
    arb   = { host = "mongo-arb.example.net:27017", site = "ohio", arbiter = true }
  }
}

output "orders_site_loss" {
  value = failover_replica_set.orders.site_loss # known at plan time
}

output "orders_rs_config" {
  value = failover_replica_set.orders.config_json # feed to rs.initiate() / rs.reconfig()
}
