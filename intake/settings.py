"""Settings: one object, read from the environment (prefix ``DOSSIER_``) at the edges only.

Stages never read settings themselves; the pipeline passes them the few values they need.
Nested groups use ``__``: ``DOSSIER_LIMITS__MAX_PAGES=500``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Limits(BaseModel):
    """What one uploaded file may be; beyond these the file is refused with a clear error."""

    max_bytes: int = 512 * 1024 * 1024
    max_pages: int = 2000
    max_pixels: int = 120_000_000  # one page image; a 300-DPI A3 scan is about 17 million
    seconds_per_page: float = 120.0


class OcrSettings(BaseModel):
    lang: str = "chi_sim"
    # Sparse text: every fragment is found wherever it stands; the table's cells, not the
    # engine's layout analysis, then decide what belongs together (wrapped cells read whole).
    page_psm: int = 11
    dpi: int | None = None  # None: a scan's own resolution, 200 for vector pages
    workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))
    verify_engine: str = "rapidocr"  # re-reads fields that do not verify: rapidocr | tesseract
    min_conf: float = 60.0  # below this a reading that disagrees with the record is uncertain


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOSSIER_", env_nested_delimiter="__")

    data_dir: Path = Path("var")
    limits: Limits = Limits()
    ocr: OcrSettings = OcrSettings()
