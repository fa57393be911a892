"""The helpline's configuration: regions, their lines and place names, hours and call limits.

Read once from the TOML file HELPLINE_CONFIG names; never from code constants.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path

from rapidfuzz import fuzz, process

from ivr.hours import OfficeHours
from ivr.phone import parse_uk
from ivr.places import normalise_words, read_gazetteer
from ivr.speech import FILLER_WORDS, NUMBER_WORDS

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# A place said right after one of these is where the caller is ("my name is Stanley and I live in
# Redcar": Redcar).
_WHERE_WORDS = frozenset({"in", "from", "near", "at", "around", "outside", "by", "of"})
_LIVE_WORDS = frozenset({"live", "living", "lives", "based", "stay", "staying", "moved"})
# Words a caller says answering any menu ("the middle one", "press number one"): a phrase starting
# or ending with one is never taken for a misheard place, and a place named only with them ("Number
# One", "No Place", both in County Durham) is heard only after "in", "from" or "near".
_EVERYDAY_WORDS = frozenset({
    "a", "i", "i'm", "im", "in", "from", "near", "at", "around", "by", "of", "the", "and", "my", "me",
    "is", "it", "it's", "live", "living", "name", "called", "please", "yes", "no", "not", "sure", "um",
    "er", "erm", "uh", "so", "just", "near", "to", "for", "on", "we", "our", "you", "there", "here",
    "need", "want", "some", "help", "support", "team", "area", "place", "town", "village", "city",
    "first", "second", "third", "last", "that", "this", "other",
    *NUMBER_WORDS, *FILLER_WORDS,
})
_LONGEST_PLACE_WORDS = 5  # "Saltburn by the Sea", "Skelton in Cleveland"


@dataclass(frozen=True)
class Region:
    id: str
    key: str
    name: str
    spoken_name: str
    line: str  # E.164
    places: tuple[str, ...]  # local forms and misrecognitions, beside the gazetteer's names
    council_areas: tuple[str, ...] = ()
    hours: TeamHours | None = None  # the team's own opening hours; None: the helpline's


@dataclass(frozen=True)
class TeamHours:
    opens: time
    closes: time
    weekdays: frozenset[int]


@dataclass(frozen=True)
class PlaceHeard:
    """A place the caller named: in one team's area, or outside the helpline's (region None)."""

    name: str  # the place, as the gazetteer or helpline file spells it
    region: Region | None


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
    voicemail_silence_seconds: int = 15
    menu_wait_seconds: int = 10
    relay_wait_seconds: int = 60
    place_hints: tuple[str, ...] = ()  # the places, as words for the speech recogniser
    _places: dict[str, PlaceHeard] = field(repr=False, default_factory=dict)  # by normalised name
    _shared: frozenset[str] = field(repr=False, default=frozenset())  # names two teams share: heard, picks neither
    _near: tuple[str, ...] = field(repr=False, default=())  # every name a misheard one may be near: both of the above
    _general: tuple[str, ...] = field(repr=False, default=())  # "not sure", "general support", ...

    def region(self, region_id: str) -> Region | None:
        return next((r for r in self.regions if r.id == region_id), None)

    def region_for_key(self, key: str) -> Region | None:
        return next((r for r in self.regions if r.key == key), None)

    def region_for_speech(self, words: str) -> Region | None:
        """The team for the place the caller named, else the general line if they asked for it."""
        place = self.place_for_speech(words)
        if place is not None:
            return place.region
        heard = f" {normalise_words(words)} "
        return self.default_region if any(f" {w} " in heard for w in self._general) else None

    def place_for_speech(self, words: str) -> PlaceHeard | None:
        """The place the caller named, forgiving a misheard name: a place said after "in", "from" or
        "near" first, then an exact name before a near one, then the longest. None if the place
        they named is one two teams' areas share ("Stainton"), so that they are asked again."""
        said = normalise_words(words).split()
        best, best_rank = None, None
        taken: set[int] = set()  # words already part of a longer place ("Skelton in Cleveland")
        for size in range(min(_LONGEST_PLACE_WORDS, len(said)), 0, -1):
            for start in range(len(said) - size + 1):
                span = range(start, start + size)
                if taken.issuperset(span):
                    continue
                phrase, where = " ".join(said[start:start + size]), _where_said(said, start)
                heard, exact = self._places.get(phrase), True
                if phrase in self._shared:
                    heard = _SHARED
                elif heard is not None and not where and _everyday(phrase):
                    continue  # "press number one" is not the hamlet Number One
                elif heard is None:
                    heard, exact = self._misheard(phrase, said[start:start + size]), False
                if heard is None:
                    continue
                taken.update(span)
                rank = (where, exact, heard.region is not None or heard is _SHARED, len(phrase), start)
                if best_rank is None or rank > best_rank:
                    best, best_rank = heard, rank
        return None if best is _SHARED else best

    def _misheard(self, phrase: str, words: list[str]) -> PlaceHeard | None:
        """The place a phrase is close to ("Spennymore", "Guisbrough"), if it is close enough."""
        if len(phrase.replace(" ", "")) < 4 or words[0] in _EVERYDAY_WORDS or words[-1] in _EVERYDAY_WORDS:
            return None
        cutoff = 90 if len(phrase) <= 6 else 85  # one letter in five is already another word
        found = process.extractOne(phrase, self._near, scorer=fuzz.ratio, score_cutoff=cutoff)
        if found is None:
            return None
        return _SHARED if found[0] in self._shared else self._places[found[0]]  # "Stainten" is Stainton

    def callback_window(self, window_id: str) -> CallbackWindow | None:
        return next((w for w in self.callback_windows if w.id == window_id), None)

    def office_hours(self, closures: frozenset[date] = frozenset(), closed_now: bool = False,
                     closed_now_until: datetime | None = None) -> OfficeHours:
        return OfficeHours(self.opens, self.closes, self.weekdays, closures, closed_now, closed_now_until)

    def team_hours(self, region: Region, office: OfficeHours) -> OfficeHours:
        """The hours `region`'s team is open: its own, if the helpline file gives it some, with the
        office's closures and "closed now" (which close every team)."""
        if region.hours is None:
            return office
        return replace(office, opens=region.hours.opens, closes=region.hours.closes, weekdays=region.hours.weekdays)


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
                              line, tuple(entry.get("places", ())), tuple(entry.get("council_areas", ())),
                              _team_hours(path, entry)))
    defaults = [r for r, e in zip(regions, raw["regions"]) if e.get("default")]
    if len(defaults) != 1:
        raise ValueError(f"{path}: exactly one region must have default = true")
    places, shared, hints = _places(Path(path), raw.get("places", {}), regions, defaults[0])
    hours = raw["hours"]
    return Helpline(
        regions=tuple(regions),
        default_region=defaults[0],
        opens=time.fromisoformat(hours["opens"]),
        closes=time.fromisoformat(hours["closes"]),
        weekdays=frozenset(_DAY_NAMES.index(d.lower()[:3]) for d in hours["days"]),
        ring_seconds=int(raw["calls"]["ring_seconds"]),
        voicemail_max_seconds=int(raw["calls"]["voicemail_max_seconds"]),
        voicemail_silence_seconds=int(raw["calls"].get("voicemail_silence_seconds", 15)),
        menu_wait_seconds=int(raw["calls"].get("menu_wait_seconds", 10)),
        relay_wait_seconds=int(raw["calls"].get("relay_wait_seconds", 60)),
        callback_windows=tuple(
            CallbackWindow(w["id"], str(w["key"]), time.fromisoformat(w["starts"]), time.fromisoformat(w["ends"]))
            for w in raw["callback_windows"]
        ),
        place_hints=hints,
        _places=places,
        _shared=shared,
        _near=(*places, *shared),
        _general=tuple(normalise_words(p) for p in defaults[0].places),
    )


_SHARED = PlaceHeard("a name two teams' areas share", None)


def _everyday(phrase: str) -> bool:
    return all(word in _EVERYDAY_WORDS for word in phrase.split())


def _where_said(said: list[str], start: int) -> int:
    """How surely the place at `start` is where the caller is: 2 after "live in" or "from", 1 after
    another word like "in" or "near", else 0 ("I work in Newcastle but live in Consett": Consett)."""
    before = said[max(0, start - 2):start]
    if before[-1:] == ["from"] or (len(before) == 2 and before[0] in _LIVE_WORDS and before[1] in _WHERE_WORDS):
        return 2
    return 1 if before[-1:] and before[-1] in _WHERE_WORDS else 0


def _team_hours(path: str | Path, entry: dict) -> TeamHours | None:
    if "hours" not in entry:
        return None
    hours = entry["hours"]
    opens, closes = time.fromisoformat(hours["opens"]), time.fromisoformat(hours["closes"])
    if not opens < closes:
        raise ValueError(f"{path}: region {entry['id']!r} closes ({closes}) before it opens ({opens})")
    return TeamHours(opens, closes, frozenset(_DAY_NAMES.index(d.lower()[:3]) for d in hours["days"]))


def _places(path: Path, settings: dict, regions: list[Region],
            general: Region) -> tuple[dict[str, PlaceHeard], frozenset[str], tuple[str, ...]]:
    """Every place a caller may name, by its normalised name: the gazetteer's settlements, each
    council area and team by name, the teams' local forms, and places outside the area. A name two
    teams share picks neither."""
    by_council = {council: region for region in regions for council in region.council_areas}
    named: list[tuple[str, Region | None]] = [(council, region) for council, region in by_council.items()]
    if gazetteer := settings.get("gazetteer"):
        beside = path.parent / gazetteer  # an administrator's copy of the helpline file may use the shipped list
        listed = read_gazetteer(beside if beside.exists() else Path(__file__).parent / gazetteer)
        for place in [p for p in listed if p.by_hand] + [p for p in listed if not p.by_hand]:
            if place.council not in by_council:
                raise ValueError(f"{path}: {gazetteer} names {place.council!r}, which no region's council_areas has")
            named.append((place.spoken, by_council[place.council]))
    # The speech recogniser is told the council areas and the gazetteer's places (Twilio takes up to
    # 500 hints); not the misrecognitions, which would teach it the mistakes.
    hints = tuple(dict.fromkeys(" ".join(re.sub(r"[^A-Za-z' ]", " ", place).split()) for place, _ in named))
    named += [(p, r) for r in regions if r is not general for p in (*r.places, r.name)]
    named += [(general.name, general)]
    named += [(p, None) for p in settings.get("outside", ())]
    places: dict[str, PlaceHeard] = {}
    shared: set[str] = set()
    for place, region in named:
        key = normalise_words(place)
        if key in places and places[key].region is not region:
            shared.add(key)
        places.setdefault(key, PlaceHeard(place, region))
    for key in shared:
        del places[key]
    return places, frozenset(shared), hints
