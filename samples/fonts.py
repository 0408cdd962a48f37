"""Noto CJK fonts for the sample dossiers: reportlab faces for the PDFs, Pillow faces for seals.

ReportLab embeds only TrueType-outline fonts, and Debian's Noto CJK collections have CFF
outlines. So the Simplified Chinese face of each collection is subset to GB 2312 (plus ASCII and
full-width forms) and converted to TrueType outlines once with fontTools, then cached. The
conversion is deterministic, so every machine with the same Debian fonts prints the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import ImageFont

from intake.errors import ToolMissingError

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")

# Registered reportlab font names.
SANS = "NotoSansSC"
SANS_BOLD = "NotoSansSC-Bold"
SERIF_BOLD = "NotoSerifSC-Bold"
SERIF = "NotoSerifSC"

_COLLECTIONS = {
    SANS: "NotoSansCJK-Regular.ttc",
    SANS_BOLD: "NotoSansCJK-Bold.ttc",
    SERIF: "NotoSerifCJK-Regular.ttc",
    SERIF_BOLD: "NotoSerifCJK-Bold.ttc",
}

# Bumped whenever the conversion below changes, so stale cache files are never reused.
_CONVERTER_VERSION = "2"

ASCENT = 0.88  # Noto CJK ascender / descender, in em: pdfplumber's word boxes use these
DESCENT = 0.12


class FontError(ToolMissingError):
    """Debian's Noto CJK fonts or fontTools are missing."""


@cache
def charset(name: str = SANS) -> frozenset[str]:
    """The characters a sample face can print. The body face (``SANS``) has all of GB 2312 and
    every CJK character in this package's and the field catalogue's source (place names such
    as 硚口区 lie outside GB 2312); the others, which print headings, titles, certificates and
    letters from fixed text and the word lists, have GB 2312 level 1 and those characters,
    which keeps their one-off conversion short."""
    chars = {chr(c) for c in range(0x20, 0x7F)}
    last_row = 0xF8 if name == SANS else 0xD8  # GB 2312 level 1 ends with row 0xD7
    for b1 in range(0xA1, last_row):
        for b2 in range(0xA1, 0xFF):
            try:
                chars.add(bytes((b1, b2)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    chars.update(chr(c) for c in range(0x3000, 0x3040))
    chars.update(chr(c) for c in range(0xFF01, 0xFF5F))
    chars.update("×±—…“”‘’·℃№")
    if name == SANS:
        # Place names of the word lists outside GB 2312 (硚口区) are printed too.
        chars.update(c for c in _source_text() if ord(c) >= 0x2E80)
    else:
        chars.update(c for c in _source_text() if ord(c) >= 0x2E80 and c in charset(SANS))
    return frozenset(chars)


def _source_text() -> str:
    from importlib import resources

    parts = [resources.files("intake").joinpath("fields.py").read_text("utf-8")]
    for entry in sorted(resources.files("samples").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            parts.append(entry.read_text("utf-8"))
    return "".join(parts)


def missing_chars(text: str, font: str = SANS) -> set[str]:
    """Characters of ``text`` that ``font`` cannot print (spaces and newlines allowed)."""
    face = font if font in _COLLECTIONS else SANS
    return {c for c in text if c not in charset(face) and c not in "\n\t"}


def collection_path(name: str) -> Path:
    path = NOTO_DIR / _COLLECTIONS[name]
    if not path.exists():
        raise FontError(f"{path} is missing: install Debian's fonts-noto-cjk")
    return path


@cache
def sc_index(path: Path) -> int:
    """Index of the Simplified Chinese face inside a Noto CJK collection."""
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    for index, face in enumerate(collection.fonts):
        if face["name"].getDebugName(1) in ("Noto Sans CJK SC", "Noto Serif CJK SC"):
            return index
    raise FontError(f"{path} has no Simplified Chinese (SC) face")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dossier-samples" / "fonts"


def _source_tag(path: Path, name: str) -> str:
    stat = path.stat()
    digest = hashlib.sha256(f"{path}:{stat.st_size}:{_CONVERTER_VERSION}".encode())
    with path.open("rb") as fh:
        digest.update(fh.read(1 << 16))
    digest.update("".join(sorted(charset(name))).encode())
    return digest.hexdigest()[:12]


def truetype_path(name: str, cache_dir: Path | None = None) -> Path:
    """A cached TrueType-outline copy of the SC face of ``name``, converted on first use."""
    source = collection_path(name)
    cache_dir = cache_dir or default_cache_dir()
    target = cache_dir / f"{name}-{_source_tag(source, name)}.ttf"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    data = _convert(source, sc_index(source), charset(name))
    # Write then rename, so parallel test workers never read a half-written font.
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    Path(tmp).chmod(0o644)
    Path(tmp).replace(target)
    return target


def _convert(source: Path, index: int, chars: frozenset[str]) -> bytes:
    """Subset one face of a CFF collection to ``chars`` and redraw it with quadratic curves."""
    try:
        from fontTools import subset
        from fontTools.pens.cu2quPen import Cu2QuPen
        from fontTools.pens.ttGlyphPen import TTGlyphPen
        from fontTools.ttLib import TTFont, newTable
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise FontError("fontTools is needed to convert Noto CJK: pip install fonttools") from exc
    import io

    font = TTFont(str(source), fontNumber=index, recalcTimestamp=False, recalcBBoxes=True)
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in sorted(chars)])
    subsetter.subset(font)

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for glyph_name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[glyph_name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[glyph_name] = pen.glyph()
    del font["CFF "]
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    font["head"].indexToLocFormat = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class Registered:
    names: tuple[str, ...]


@cache
def register(cache_dir: Path | None = None) -> Registered:
    """Register the sample faces with reportlab (once per process)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    names = (SANS, SANS_BOLD, SERIF_BOLD, SERIF)
    paths = _convert_all(names, cache_dir)
    for name in names:
        pdfmetrics.registerFont(TTFont(name, str(paths[name])))
    return Registered(names)


def _convert_all(names: tuple[str, ...], cache_dir: Path | None) -> dict[str, Path]:
    """Every face's cached TrueType file; on a fresh machine, converted two at a time."""
    cached = {}
    for name in names:
        target = (cache_dir or default_cache_dir()) / \
            f"{name}-{_source_tag(collection_path(name), name)}.ttf"
        if target.exists():
            cached[name] = target
    missing = [n for n in names if n not in cached]
    if len(missing) > 1 and (os.cpu_count() or 1) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=2) as pool:
            paths = pool.map(truetype_path, missing, [cache_dir] * len(missing))
            cached.update(zip(missing, paths, strict=True))
    return {name: cached.get(name) or truetype_path(name, cache_dir) for name in names}


@cache
def pil_font(name: str, size_px: int) -> ImageFont.FreeTypeFont:
    """A Pillow face read straight from the collection (FreeType reads CFF outlines)."""
    path = collection_path(name)
    return ImageFont.truetype(str(path), size_px, index=sc_index(path))


def string_width(text: str, font: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    register()
    return float(stringWidth(text, font, size))
