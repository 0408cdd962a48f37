"""The service is tested on the real stores and databases the storage tests start."""

from tests.api.support import batch, service
from tests.storage.conftest import seaweed, store
from tests.storage.db.conftest import database_url, postgres_database

__all__ = ["batch", "database_url", "postgres_database", "seaweed", "service", "store"]
