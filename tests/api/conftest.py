"""The service is tested on the real stores and databases the storage tests start."""

from tests.storage.conftest import seaweed, store
from tests.storage.db.conftest import database_url, postgres_database

__all__ = ["database_url", "postgres_database", "seaweed", "store"]
