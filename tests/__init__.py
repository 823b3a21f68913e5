"""Kawal test suite."""
