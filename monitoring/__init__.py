"""Metrics, dashboards and alert rules of the hub."""
