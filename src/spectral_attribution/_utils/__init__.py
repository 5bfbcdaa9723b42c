"""Helpers shared by every layer, grouped by theme (no torch at import time)."""
