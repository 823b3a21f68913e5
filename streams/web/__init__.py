"""HTTP views of the hub processes (health, metrics, trails) and the read-only page."""
