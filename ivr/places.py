"""The gazetteer: the settlements in the council areas the helpline covers (ivr/places.tsv), and
making that file from the ONS Index of Place Names, either its CSV or a published extract of it.

The file is one place a line, `name <TAB> council area`, after a header of `#` lines saying where
the list came from, under what licence, when, and how many places each council area has. A place the
published source lacks but callers name is kept with a third field, `added by hand: <reason>`, in
its own section at the end, so that every name's provenance shows.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import NamedTuple

BY_HAND = "added by hand: "
LICENCE = "Open Government Licence v3.0; contains OS data \u00a9 Crown copyright and database right"
EXTRACT_COLUMNS = ("name", "lat", "lon", "district", "places")


class Place(NamedTuple):
    name: str  # as the source spells it: "Pelaw, South"
    council: str
    by_hand: str = ""  # why a place the published source lacks is listed; "" for a published one

    @property
    def spoken(self) -> str:
        """The name as a caller says it: the index writes "Pelaw, South" for South Pelaw, and
        "Thornton (Stainton and Thornton)" for the Thornton in that parish."""
        name = re.sub(r"\s*\([^)]*\)$", "", self.name)
        first, comma, rest = name.partition(", ")
        return f"{rest} {first}" if comma else name


def normalise_words(text: str) -> str:
    """Lower case, hyphens and punctuation to spaces, single-spaced: for matching speech."""
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " ")).split())


def read_gazetteer(path: str | Path) -> list[Place]:
    """The places in a gazetteer file; a malformed line stops the app with its number."""
    places = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = [f.strip() for f in line.rstrip("\n").split("\t")]
            marked = len(fields) == 3 and fields[2].startswith(BY_HAND)
            if not all(fields) or not (len(fields) == 2 or marked):
                raise ValueError(f"{path}, line {number}: expected 'place<TAB>council area', and '<TAB>{BY_HAND}"
                                 f"<reason>' for a place not in the published source; got {line.strip()!r}")
            places.append(Place(fields[0], fields[1], fields[2][len(BY_HAND):] if len(fields) == 3 else ""))
    return places


def import_ipn(ipn_csv: str | Path, council_areas: Iterable[str], out: str | Path, today: date,
               keep: Sequence[Place] = ()) -> Counter:
    """Write the gazetteer from an ONS Index of Place Names CSV (columns placeNNnm and ladNNnm, NN
    the year), keeping the places in `council_areas`; returns the count per council area."""
    wanted = list(council_areas)
    with open(ipn_csv, encoding="latin-1", newline="") as file:
        reader = csv.DictReader(file)
        columns = reader.fieldnames or []
        place = next((c for c in columns if re.fullmatch(r"place\d\dnm", c.lower())), None)
        area = next((c for c in columns if re.fullmatch(r"lad\d\dnm", c.lower())), None)
        if place is None or area is None:
            raise ValueError(f"{ipn_csv}: no placeNNnm and ladNNnm columns; is this the Index of Place Names?")
        published = [Place(row[place].strip(), row[area].strip()) for row in reader
                     if row[area].strip() in wanted and row[place].strip()]
    source = f"ONS Index of Place Names ({Path(ipn_csv).name}; {LICENCE}), imported {today.isoformat()}."
    return write_gazetteer(out, published, wanted, source, keep)


def import_extract(extract_tsvs: Sequence[str | Path], council_areas: Iterable[str], out: str | Path,
                   today: date, extracted_in: str, edition: str, keep: Sequence[Place] = ()) -> Counter:
    """Write the gazetteer from rows of an extract of the Index of Place Names, tab-separated
    `name lat lon district places` (`district` the local authority; a header line is optional),
    keeping the places in `council_areas`; returns the count per council area."""
    wanted = list(council_areas)
    published = []
    for path in extract_tsvs:
        with open(path, encoding="utf-8") as file:
            for number, line in enumerate(file, 1):
                fields = [f.strip() for f in line.rstrip("\n").split("\t")]
                if not line.strip() or tuple(f.lower() for f in fields) == EXTRACT_COLUMNS:
                    continue
                if len(fields) != len(EXTRACT_COLUMNS):
                    raise ValueError(f"{path}, line {number}: expected {len(EXTRACT_COLUMNS)} tab-separated "
                                     f"columns ({' '.join(EXTRACT_COLUMNS)}); is this the extract?")
                if fields[3] in wanted and fields[0]:
                    published.append(Place(fields[0], fields[3]))
    source = (f"ONS Index of Place Names {edition} ({LICENCE}), as extracted in {extracted_in}, "
              f"districts filtered on {today.isoformat()}.")
    return write_gazetteer(out, published, wanted, source, keep)


def write_gazetteer(out: str | Path, published: Iterable[Place], council_areas: Sequence[str], source: str,
                    keep: Sequence[Place] = ()) -> Counter:
    """Write the gazetteer: the published places once each by name and council area, then the places
    of `keep` marked added by hand that the published source lacks; returns the count per council area.

    The published places come in the order the speech recogniser is told them (Twilio takes 500
    hints): those `keep` already had, in its order (the places callers name), then the rest."""
    unique: dict[tuple[str, str], Place] = {}
    for place in sorted(published, key=lambda p: p.spoken != p.name):  # "West Auckland" before "Auckland, West"
        unique.setdefault((normalise_words(place.spoken), place.council), place)
    kept_at = {normalise_words(p.spoken): index for index, p in enumerate(keep)}
    rows = sorted(unique.values(), key=lambda p: (kept_at.get(normalise_words(p.spoken), len(keep)), p.council, p.name))
    published_names = {name for name, _ in unique}
    by_hand: dict[tuple[str, str], Place] = {}
    for place in keep:
        if place.by_hand and normalise_words(place.spoken) not in published_names:
            by_hand.setdefault((normalise_words(place.spoken), place.council), place)
    counts = Counter(p.council for p in rows)
    hand_counts = Counter(p.council for p in by_hand.values())
    previous = sum(1 for p in rows if normalise_words(p.spoken) in kept_at)
    header = [
        "Settlements in the council areas the helpline covers, and the council area of each, one a line:",
        "name <TAB> council area. The helpline file (helpline.toml) says which team covers each council area.",
        "A name written 'Pelaw, South' is heard as callers say it, 'South Pelaw'.",
        "",
        f"Source: {source}",
        "",
        "Published: " + ", ".join(f"{c} {counts[c]}" for c in council_areas) + f" ({len(rows)} in all).",
        "Added by hand, not in the published source (the last section, each with its reason): "
        + ", ".join(f"{c} {hand_counts[c]}" for c in council_areas) + f" ({len(by_hand)} in all).",
        "",
        "Published places come in the order the speech recogniser is told them (Twilio takes 500 hints,",
        "and the source gives no population to rank them by): first the places the previous gazetteer",
        "had, in its order, then the rest by council area and name. Places added by hand are told first.",
        "A name two teams' council areas share picks neither team.",
    ]
    with open(out, "w", encoding="utf-8") as file:
        file.writelines(f"# {line}".rstrip() + "\n" for line in header)
        sections = [("Published: the places the previous gazetteer also had", rows[:previous]),
                    ("Published: the other places", rows[previous:])]
        for title, section in sections:
            if section:
                file.write(f"\n# ---- {title} ({len(section)}) ----\n")
                file.writelines(f"{p.name}\t{p.council}\n" for p in section)
        if by_hand:
            file.write(f"\n# ---- Added by hand: not in the published source ({len(by_hand)}) ----\n")
            file.writelines(f"{p.name}\t{p.council}\t{BY_HAND}{p.by_hand}\n"
                            for p in sorted(by_hand.values(), key=lambda p: (p.council, p.name)))
    return counts + hand_counts
