"""A review campaign's configuration, as data: deadline, review date, required copies and the
roster of labs under review, read from ``intake/data/campaign-<year>.json``."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class RosterEntry:
    lab_id: str | None
    lab_name: str | None
    legal_entity: str | None


@dataclass(frozen=True)
class Campaign:
    campaign: str
    title: str
    application_deadline: date | None  # 确认复核: the last day to apply online (ground 1)
    review_date: date | None  # the formal review's date: certificates must hold then (ground 2)
    roster: tuple[RosterEntry, ...]
    provenance: dict[str, str]  # where each value comes from, e.g. "generated: ..."
    required_copies: dict[str, int] = dataclasses.field(default_factory=dict)  # volume, opinion


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def parse_campaign(data: dict[str, Any]) -> Campaign:
    roster = tuple(RosterEntry(r.get("lab_id"), r.get("lab_name"), r.get("legal_entity"))
                   for r in data.get("roster") or ())
    return Campaign(
        campaign=str(data["campaign"]), title=str(data.get("title", "")),
        application_deadline=_day(data.get("application_deadline")),
        review_date=_day(data.get("review_date")), roster=roster,
        provenance={str(k): str(v) for k, v in (data.get("provenance") or {}).items()},
        required_copies={str(k): int(v) for k, v in (data.get("required_copies") or {}).items()})


def required_copies(campaign: str, what: str, default: int) -> int:
    """How many copies of ``what`` (volume, opinion, letter) the campaign asks for."""
    config = campaign_config(campaign)
    return config.required_copies.get(what, default) if config else default


@cache
def campaign_config(campaign: str) -> Campaign | None:
    """The configuration of a campaign, or None when none is installed for it."""
    resource = resources.files("intake").joinpath("data", f"campaign-{campaign}.json")
    try:
        text = resource.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    return parse_campaign(json.loads(text))


def in_words(count: int) -> str:
    """A copy count as the work plan writes it: 2 -> 两 (一式两份)."""
    return {1: "一", 2: "两", 3: "三", 4: "四"}.get(count, str(count))
