"""Kawal connectors for the recommending authority's case-management database (KASN, BKN)."""
