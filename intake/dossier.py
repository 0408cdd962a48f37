"""What the page stages hand to the dossier stages: each page's reading, fields and opinion."""

from __future__ import annotations

from dataclasses import dataclass

from intake.extract import Opinion
from intake.model import Field, Page, PageInk, PageKind


@dataclass(frozen=True)
class PageResult:
    page: Page
    fields: tuple[Field, ...] = ()
    opinion: Opinion | None = None
    image: str | None = None  # path of the upright page image, for evidence crops
    error: str | None = None  # why the page could not be read
    copy: int = 1  # which bound copy the page belongs to, set when the dossier is assembled
    ink: PageInk | None = None  # form and approval pages only, for comparing the two copies


def pages_of(results: list[PageResult], kind: PageKind) -> list[PageResult]:
    return [r for r in results if r.page.kind is kind]


def copies_of(results: list[PageResult], kind: PageKind) -> dict[int, list[PageResult]]:
    """Pages of one kind grouped by bound copy, copies in order."""
    grouped: dict[int, list[PageResult]] = {}
    for result in pages_of(results, kind):
        grouped.setdefault(result.copy, []).append(result)
    return dict(sorted(grouped.items()))
