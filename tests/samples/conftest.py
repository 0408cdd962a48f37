"""Batches generated once per test session and shared by the sample-generator tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from samples.discrepancies import KINDS
from samples.generate import generate_batch

ALL_KINDS = len(KINDS)


class Batch:
    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest

    def lab(self, index: int) -> Path:
        return self.root / self.manifest["labs"][index]["dir"]

    @property
    def dirty(self) -> list[int]:
        return [i for i, lab in enumerate(self.manifest["labs"]) if not lab["clean"]]

    def truth(self, index: int) -> dict[str, Any]:
        return json.loads((self.lab(index) / "truth.json").read_text("utf-8"))

    def record(self, index: int) -> dict[str, Any]:
        return json.loads((self.lab(index) / "record.json").read_text("utf-8"))


def _batch(factory: pytest.TempPathFactory, name: str, **kwargs: Any) -> Batch:
    root = factory.mktemp(name)
    return Batch(root, generate_batch(root, **kwargs))


@pytest.fixture(scope="session")
def text_batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """The digital printout; labs 2 and 4 carry 8 discrepancies each, every kind among them
    (missing_opinion and opinion_disagrees cannot share a lab)."""
    return _batch(tmp_path_factory, "text", labs=4, seed=5, text_layer=True,
                  discrepancies=ALL_KINDS, kinds=["all"])


@pytest.fixture(scope="session")
def clean_scan_batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """The same dossiers as ``text_batch`` (same seed), scanned without degradation."""
    return _batch(tmp_path_factory, "scan", labs=4, seed=5, degrade="none",
                  discrepancies=ALL_KINDS, kinds=["all"])


@pytest.fixture(scope="session")
def heavy_batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return _batch(tmp_path_factory, "heavy", labs=1, seed=9, degrade="heavy")
