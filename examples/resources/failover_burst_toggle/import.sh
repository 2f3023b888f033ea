# Burst toggles are imported by name.
terraform import failover_burst_toggle.black_friday black-friday
