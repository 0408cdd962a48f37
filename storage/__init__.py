"""Object storage for originals and derived artefacts: one interface, local files or S3.

``open_store`` is the one place that chooses the backend from the settings.
"""

from __future__ import annotations

from intake.settings import Settings, StorageSettings
from storage.local import LocalStore
from storage.objects import ObjectInfo, ObjectStore, StoredObject, StoreProbe

__all__ = ["LocalStore", "ObjectInfo", "ObjectStore", "StoreProbe", "StoredObject", "open_store"]


def open_store(settings: Settings | StorageSettings) -> ObjectStore:
    """The store the settings describe; nothing is contacted until the first call (or ``probe``)."""
    config = settings.storage if isinstance(settings, Settings) else settings
    if config.backend == "local":
        return LocalStore(config.root)
    from storage.s3 import S3Store  # the S3 client is only loaded when it is used

    # StorageSettings refuses the s3 backend without these
    assert config.endpoint is not None
    assert config.access_key is not None
    return S3Store(config.endpoint, config.access_key, config.secret_key, config.bucket,
                   secure=config.secure, region=config.region, timeout=config.timeout_seconds)
