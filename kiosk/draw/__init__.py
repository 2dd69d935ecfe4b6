"""The witnessed draw (Art. 5-7, 12, 16): pure protocol and verifier, pool, ceremony steps.

Kept empty on purpose: `kiosk.draw.verify` and `kiosk.draw.lottery` must load without the
database layer, and importing this package must not pull it in.
"""
