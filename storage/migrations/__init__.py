"""Alembic migrations of the database schema; run them with ``storage.db.migrate(url)``."""
