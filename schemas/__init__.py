"""Kawal's shared Avro schemas (``avro/``), their catalogue, the wire codec and identifiers.

Also the schema-registry client for the Confluent wire format (``registry``) and the labels of
coded values, kept as data in ``data/`` (``labels``).
"""
