"""The version of pack (single source: pyproject reads it from here)."""

__version__ = "0.1.0"
