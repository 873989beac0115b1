"""Grassroots device agent: verifies signed commands, plays the signed schedule by its own clock."""

__version__ = "0.1.0"
