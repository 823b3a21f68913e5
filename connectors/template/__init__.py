"""The package ``kawal connector new NAME`` creates: a working file-exchange connector pair.

Files under ``package/`` are copied, then those of the flavour the institution's role calls
for (``flavours/report``: a ``ReportReceived`` per line; ``flavours/decree``: a PPK's
``SanctionImposed``), with ``%%name%%`` (the connector name), ``%%package%%`` (its Python
package), ``%%title%%``, ``%%institution%%``, ``%%role%%``, ``%%event_type%%``,
``%%records%%`` and ``%%region%%`` replaced;
``connector_pkg`` becomes the package.
"""
