"""Benchmarks of the hub; ``make bench`` runs them and prints ``name: value`` lines."""
