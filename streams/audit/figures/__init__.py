"""The neutrality dashboard's figures: projections of the audit store (docs/dashboard.md)."""
