"""billstream: billing and revenue management for communications and subscription businesses."""

__version__ = "0.1.0"
