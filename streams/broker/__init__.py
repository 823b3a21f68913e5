"""Kafka client plumbing.

The broker URL, Faust's transport and its tansu compatibility, topic provisioning, the event
publisher and the dead-letter tools.
"""
