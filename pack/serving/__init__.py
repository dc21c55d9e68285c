"""Scoring server (being built)."""
