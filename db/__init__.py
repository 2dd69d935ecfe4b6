"""Storage layer: Peewee models, connection and migrations. Imports neither kiosk nor screens."""
from db.connection import connect, database, default_db_path  # noqa: F401
