"""Builders (being built)."""
