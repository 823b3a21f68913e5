"""Kawal's shared Avro schemas (``avro/``), their catalogue, the wire codec and identifiers."""
