"""Store operations for the bureau's administrator: backup, restore, moving to PostgreSQL."""
