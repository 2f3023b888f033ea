# Votes needed to elect a primary among 5 voting members: 3.
output "majority_of_five" {
  value = provider::failover::majority(5)
}
