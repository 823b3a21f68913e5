"""Kawal connector for %%title%%."""
