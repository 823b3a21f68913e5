"""The public reporting channel: a web form and JSON API run by Bawaslu, with tracking.

See :mod:`connectors.lapor.connector` and docs/lapor.md.
"""
