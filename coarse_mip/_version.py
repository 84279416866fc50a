"""The package version (one place; saved policies record it)."""

__version__ = "0.2.0"
