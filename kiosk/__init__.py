"""双随机 kiosk: the domain (lottery, ceremony, registries, slips, reports, audit) and the CLI."""
