# Webhooks are imported by name.
terraform import failover_webhook.oncall oncall
