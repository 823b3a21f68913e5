"""Kawal connector for an Inspektorat Daerah: store-and-forward batch files with receipts.

Regional inspectorate offices often sit behind poor links, so they do not call the hub: their
system drops CSV or JSON batch files into a shared ``incoming/`` directory, and reads back one
receipt per batch from ``receipts/``. :mod:`connectors.inspektorat.connector` is the hub's side
(entry point ``inspektorat-filedrop``); :mod:`connectors.inspektorat.simulator` is an office.
"""
