"""Where each seal is stamped: the printed lines it lies over, and whether one of them, or one
right beside it, is a signature line ("推荐单位（盖章）", "法人单位（公章）"), so that checks can
ask whether a seal is where the paper asks for it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from intake.model import Box, Line, Seal, SealPlace
from intake.normalize import canonical_text

# Words of a line that asks for a seal.
_SIGNATURE_WORDS = ("盖章", "公章", "签章", "印章")
# A seal is stamped beside its signature line as often as over it: a line this near the seal's
# box counts.
BESIDE_MM = 5.0
# A round seal's box has empty corners: a line counts as under the seal where it reaches the
# box shrunk by this share of its size on each side (the disk's inscribed square is 0.15 in).
_CORNER = 0.15


def is_signature_line(text: str) -> bool:
    """Whether a printed line asks for a seal."""
    flat = canonical_text(text)
    return any(word in flat for word in _SIGNATURE_WORDS)


def place_seals(seals: Iterable[Seal], lines: Sequence[Line], dpi: int,
                size: tuple[int, int]) -> list[Seal]:
    """Each seal with what it is stamped on: the lines under it (``Seal.on``, top to bottom)
    and its place: on or beside a signature line, over other print, or on blank paper.
    ``size``: the page's width and height in pixels."""
    beside = round(BESIDE_MM * dpi / 25.4)
    placed = []
    for seal in seals:
        inner = _shrunk(seal.box, _CORNER)
        under = sorted((ln for ln in lines if ln.box.intersection(inner) > 0),
                       key=lambda ln: (ln.box.y, ln.box.x))
        near = seal.box.pad(beside, *size)
        if any(is_signature_line(ln.text) for ln in lines if ln.box.intersection(near) > 0):
            place = SealPlace.SIGNATURE
        else:
            place = SealPlace.TEXT if under else SealPlace.BLANK
        placed.append(replace(seal, place=place, on=tuple(ln.text for ln in under)))
    return placed


def _shrunk(box: Box, share: float) -> Box:
    dx, dy = round(share * box.w), round(share * box.h)
    return Box(box.x + dx, box.y + dy, max(1, box.w - 2 * dx), max(1, box.h - 2 * dy))
