"""The package ``kawal connector new NAME`` creates: a working file-exchange connector pair.

Files under ``package/`` are copied with ``%%name%%`` (the connector name), ``%%package%%``
(its Python package) and ``%%title%%`` replaced; ``package/connector_pkg`` becomes the package.
"""
