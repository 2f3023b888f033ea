# fall 3 × interval 10 s + timeout 2 s + failover delay 30 s + TTL 30 s = 92 s.
output "worst_case" {
  value = provider::failover::worst_case_failover_seconds(3, 10, 2, 30, 30)
}
