"""The helpline's configuration: regions, their lines and place names, hours and call limits.

Read once from the TOML file HELPLINE_CONFIG names; never from code constants.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from ivr.hours import OfficeHours
from ivr.phone import parse_uk

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def normalise_words(text: str) -> str:
    """Lower case, hyphens and punctuation to spaces, single-spaced: for matching speech."""
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " ")).split())


@dataclass(frozen=True)
class Region:
    id: str
    key: str
    name: str
    spoken_name: str
    line: str  # E.164
    places: tuple[str, ...]


@dataclass(frozen=True)
class CallbackWindow:
    id: str
    key: str
    starts: time
    ends: time


@dataclass(frozen=True)
class Helpline:
    regions: tuple[Region, ...]
    default_region: Region
    opens: time
    closes: time
    weekdays: frozenset[int]
    ring_seconds: int
    voicemail_max_seconds: int
    callback_windows: tuple[CallbackWindow, ...]
    _places: tuple[tuple[str, Region], ...] = field(repr=False, default=())

    def region(self, region_id: str) -> Region | None:
        return next((r for r in self.regions if r.id == region_id), None)

    def region_for_key(self, key: str) -> Region | None:
        return next((r for r in self.regions if r.key == key), None)

    def region_for_speech(self, words: str) -> Region | None:
        """The region whose place name the caller said (the longest name heard wins)."""
        heard = f" {normalise_words(words)} "
        for place, region in self._places:
            if f" {place} " in heard:
                return region
        return None

    def callback_window(self, window_id: str) -> CallbackWindow | None:
        return next((w for w in self.callback_windows if w.id == window_id), None)

    def office_hours(self, closures: frozenset[date] = frozenset(), closed_now: bool = False,
                     closed_now_until: datetime | None = None) -> OfficeHours:
        return OfficeHours(self.opens, self.closes, self.weekdays, closures, closed_now, closed_now_until)


def load_helpline(path: str | Path) -> Helpline:
    """Read and check the helpline file; a mistake in it stops the app at start-up with the reason."""
    with open(path, "rb") as file:
        raw = tomllib.load(file)
    regions = []
    for entry in raw["regions"]:
        line = parse_uk(entry["line"])
        if line is None:
            raise ValueError(f"{path}: region {entry['id']!r} has an invalid UK line {entry['line']!r}")
        regions.append(Region(entry["id"], str(entry["key"]), entry["name"], entry.get("spoken_name", entry["name"]),
                              line, tuple(entry.get("places", ()))))
    defaults = [r for r, e in zip(regions, raw["regions"]) if e.get("default")]
    if len(defaults) != 1:
        raise ValueError(f"{path}: exactly one region must have default = true")
    places = sorted(((normalise_words(p), r) for r in regions for p in (*r.places, r.name)),
                    key=lambda pair: -len(pair[0]))
    hours = raw["hours"]
    return Helpline(
        regions=tuple(regions),
        default_region=defaults[0],
        opens=time.fromisoformat(hours["opens"]),
        closes=time.fromisoformat(hours["closes"]),
        weekdays=frozenset(_DAY_NAMES.index(d.lower()[:3]) for d in hours["days"]),
        ring_seconds=int(raw["calls"]["ring_seconds"]),
        voicemail_max_seconds=int(raw["calls"]["voicemail_max_seconds"]),
        callback_windows=tuple(
            CallbackWindow(w["id"], str(w["key"]), time.fromisoformat(w["starts"]), time.fromisoformat(w["ends"]))
            for w in raw["callback_windows"]
        ),
        _places=tuple(places),
    )
