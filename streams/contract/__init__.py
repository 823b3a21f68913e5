"""The hub's published contract for machines and people.

The AsyncAPI document and the event reference, generated from the schemas and the topic
table.
"""
