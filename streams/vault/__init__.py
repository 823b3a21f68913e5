"""The vault of personal data at rest: a data key per case, wrapped by key-encryption keys.

Key-encryption keys and where they come from (``kek``, ``kek_source``), the cases' data keys
(``data_keys``, on the tables of ``tables`` and their migrations), sealing values under a data
key (``at_rest``). ``docs/envelope-encryption.md`` gives the design.
"""
