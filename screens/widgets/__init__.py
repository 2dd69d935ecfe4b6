"""Reusable widgets of the kiosk screens, one per module, each with its own DEFAULT_CSS."""
