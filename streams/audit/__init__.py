"""The SQL audit store and its readers.

Tables and migrations, chain verification, replay from the trail topic, trail views and the
public statistics.
"""
