"""The one typed document model: what every stage reads and returns.

All boxes are in pixels of the page image as the pipeline rendered it (``Page.dpi``;
for image files, the file's own pixels after orientation correction), origin top left.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in page pixels."""

    x: int
    y: int
    w: int
    h: int

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def contains_point(self, px: float, py: float) -> bool:
        return self.x <= px < self.x2 and self.y <= py < self.y2

    def intersection(self, other: Box) -> int:
        w = min(self.x2, other.x2) - max(self.x, other.x)
        h = min(self.y2, other.y2) - max(self.y, other.y)
        return max(0, w) * max(0, h)

    def iou(self, other: Box) -> float:
        inter = self.intersection(other)
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union else 0.0

    def pad(self, margin: int, width: int, height: int) -> Box:
        """Grow by ``margin`` on every side, clipped to a ``width`` x ``height`` page."""
        x = max(0, self.x - margin)
        y = max(0, self.y - margin)
        return Box(x, y, min(width, self.x2 + margin) - x, min(height, self.y2 + margin) - y)

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    @staticmethod
    def union_of(boxes: list[Box]) -> Box:
        x = min(b.x for b in boxes)
        y = min(b.y for b in boxes)
        return Box(x, y, max(b.x2 for b in boxes) - x, max(b.y2 for b in boxes) - y)


class TextSource(StrEnum):
    TEXT_LAYER = "text-layer"
    TESSERACT = "tesseract"
    RAPIDOCR = "rapidocr"


@dataclass(frozen=True)
class Word:
    text: str
    box: Box
    conf: float  # 0..100; 100 for a PDF text layer


@dataclass(frozen=True)
class Line:
    text: str
    box: Box
    conf: float
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Cell:
    """One cell of a ruled table, with the text read inside it."""

    row: int
    col: int
    box: Box
    text: str = ""
    conf: float = 0.0
    table: int = 0


class SealShape(StrEnum):
    ROUND = "round"
    OVAL = "oval"
    SQUARE = "square"
    RECTANGLE = "rectangle"


class SealPlace(StrEnum):
    """What a seal is stamped on (``placement.place_seals``)."""

    SIGNATURE = "signature"  # on or beside a "（盖章）" line: where the paper asks for a seal
    TEXT = "text"  # over other print
    BLANK = "blank"  # over no print
    UNKNOWN = "unknown"  # not placed: no text of the page was looked at


@dataclass(frozen=True)
class Seal:
    box: Box
    shape: SealShape
    color: str  # "red", "blue", "gray"
    complete: bool  # False where the page edge cuts the seal
    score: float  # 0..1, detector's belief that this is a seal
    text: str = ""  # organisation name read along the ring, "" when unread
    text_score: float = 0.0
    # (name, fit) for each organisation the ring was compared with: the recogniser's per-character
    # log-likelihood of that name against its own reading, 0 at best (``seal_text.name_fit``);
    # only names a reading was sure and long enough to compare with.
    fits: tuple[tuple[str, float], ...] = ()
    place: SealPlace = SealPlace.UNKNOWN
    on: tuple[str, ...] = ()  # the printed lines the seal lies over, top to bottom


class PageKind(StrEnum):
    FORM = "form"  # a page of the 复核申报信息表
    APPROVAL = "approval"  # 审批情况 / 主管单位审批意见, the form's last page
    LETTER = "letter"  # the association's confirmation letter
    CERTIFICATE = "certificate"  # copy of a CMA / CNAS certificate or licence
    ATTACHMENT = "attachment"
    BLANK = "blank"
    UNKNOWN = "unknown"


class DocumentKind(StrEnum):
    PDF = "pdf"
    TIFF = "tiff"
    JPEG = "jpeg"
    PNG = "png"


@dataclass(frozen=True)
class Document:
    """One uploaded file."""

    name: str
    sha256: str
    size: int
    kind: DocumentKind
    page_count: int


@dataclass(frozen=True)
class ScanQuality:
    """How well a scanned page can be read (``intake.quality``)."""

    edge_mm: float | None  # width of the text's edges on paper; None without text edges
    paper: float  # brightness of the paper, 0..255 (95th percentile)
    contrast: float  # paper minus ink (2nd percentile), 0..255
    scan_dpi: int  # the resolution the page was scanned at, as far as the file tells


@dataclass(frozen=True)
class Page:
    """One page after preparation and reading."""

    document: str  # Document.name
    number: int  # 1-based within its document
    width: int
    height: int
    dpi: int
    rotation: int = 0  # degrees clockwise applied to make the page upright
    skew: float = 0.0  # degrees corrected by deskew
    text_source: TextSource = TextSource.TESSERACT
    kind: PageKind = PageKind.UNKNOWN
    # How sure the classifier is of ``kind``, 0..1, and what it saw within the kind: a
    # certificate's type (cma, cnas, licence), a form page's sections ("cover", "1,2"), or "".
    kind_confidence: float = 0.0
    kind_detail: str = ""
    lines: tuple[Line, ...] = ()
    cells: tuple[Cell, ...] = ()
    seals: tuple[Seal, ...] = ()
    footer: tuple[int, int] | None = None  # (N, M) of "第 N 页 共 M 页"
    seconds: float = 0.0
    quality: ScanQuality | None = None  # None for a text layer: nothing was scanned
    # The precise engine's own reading of the page, apart from the page pass's lines and cells
    # (certificate pages, read whole by the verifier with the seals' ink taken out).
    reread: tuple[Line, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True)
class PageInk:
    """A page's ink at low resolution, kept from the page pass so that two bound copies of a
    page can be compared by image: each pixel the share of it that is ink (0..255), row-major,
    zlib-compressed, in the page's upright frame scaled by ``dpi / Page.dpi``."""

    dpi: int
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class Location:
    """Where on paper a piece of evidence stands."""

    document: str
    page: int
    box: Box | None = None


@dataclass(frozen=True)
class Reading:
    """One engine's reading of a field value."""

    text: str
    conf: float
    source: str  # e.g. "text-layer", "tesseract:page", "tesseract:cell", "rapidocr:cell"


@dataclass(frozen=True)
class Field:
    """One field value as printed on paper."""

    key: str  # FieldSpec.key, e.g. "identity.credit_code"
    label: str
    text: str  # the value as read (best reading)
    location: Location
    copy: int = 1  # which bound copy of the volume the field was read from
    readings: tuple[Reading, ...] = ()


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNCERTAIN = "uncertain"


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    REVIEW = "review"  # something could not be read with confidence


@dataclass(frozen=True)
class Finding:
    """One check's outcome, with its evidence."""

    rule: str  # stable id, e.g. "field.match"
    title: str  # Chinese title shown to reviewers
    status: Status
    clause: str  # the work-plan clause the rule enforces
    message: str  # Chinese, one sentence a reviewer can act on
    field: str | None = None
    label: str | None = None
    expected: str | None = None  # the online record's value
    found: str | None = None  # the paper's value
    location: Location | None = None
    evidence: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """All findings for one dossier and the verdict they imply."""

    lab_id: str
    lab_name: str
    campaign: str
    verdict: Verdict
    findings: tuple[Finding, ...]
    documents: tuple[Document, ...]
    pages: tuple[Page, ...]
    record_sha256: str
    created_at: str
    seconds: float
    version: str = "1"
