"""``kawal status``: whether the hub of a ``KAWAL_HOME`` is OK, and if not, what and where to look.

It only reads what the hub's processes already expose (their ``/readyz``, ``/livez`` and
``/metrics``, the broker's metadata, the audit store, Prometheus's alerts): one line per check,
``OK``, ``DEGRADED`` or ``DOWN``, with its reason and the runbook section of
``docs/operations.md`` to read. Never a personal value: the reasons are states and codes.
"""
