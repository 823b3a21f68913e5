"""Connector SDK and reference connectors: how institutions join the hub."""
