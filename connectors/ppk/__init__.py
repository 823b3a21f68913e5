"""Kawal connector for a PPK's sanction-decree registry (the employing agency)."""
