"""Semantify: control 3D morphable models with words."""

__version__ = "0.1.0"
