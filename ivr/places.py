"""The gazetteer: the settlements in the council areas the helpline covers (ivr/places.tsv), and
making that file from the ONS Index of Place Names.

The file is one place a line, `name <TAB> council area`, after a header of `#` lines saying where
the list came from, under what licence, when, and how many places each council area has.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path


def read_gazetteer(path: str | Path) -> list[tuple[str, str]]:
    """The (place, council area) pairs in a gazetteer file; a malformed line stops the app with its number."""
    pairs = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 2 or not all(f.strip() for f in fields):
                raise ValueError(f"{path}, line {number}: expected 'place<TAB>council area', got {line.strip()!r}")
            pairs.append((fields[0].strip(), fields[1].strip()))
    return pairs


def import_ipn(ipn_csv: str | Path, council_areas: Iterable[str], out: str | Path, today: date) -> Counter:
    """Write the gazetteer from an ONS Index of Place Names CSV (columns placeNNnm and ladNNnm, NN
    the year), keeping the places in `council_areas`; returns the count per council area."""
    wanted = set(council_areas)
    with open(ipn_csv, encoding="latin-1", newline="") as file:
        reader = csv.DictReader(file)
        columns = reader.fieldnames or []
        place = next((c for c in columns if re.fullmatch(r"place\d\dnm", c.lower())), None)
        area = next((c for c in columns if re.fullmatch(r"lad\d\dnm", c.lower())), None)
        if place is None or area is None:
            raise ValueError(f"{ipn_csv}: no placeNNnm and ladNNnm columns; is this the Index of Place Names?")
        pairs = sorted({(row[area].strip(), row[place].strip()) for row in reader
                        if row[area].strip() in wanted and row[place].strip()})
    counts = Counter(council for council, _ in pairs)
    header = [
        "Settlements in the council areas the helpline covers, and the council area of each, one a line:",
        "name <TAB> council area. The helpline file (helpline.toml) says which team covers each council area.",
        "",
        f"Source: ONS Index of Place Names ({Path(ipn_csv).name}), imported {today.isoformat()}.",
        "Office for National Statistics, licensed under the Open Government Licence v3.0.",
        "Contains OS data (c) Crown copyright and database right.",
        "",
        "Counts: " + ", ".join(f"{council} {counts[council]}" for council in sorted(wanted))
        + f" ({len(pairs)} in all).",
    ]
    with open(out, "w", encoding="utf-8") as file:
        file.writelines(f"# {line}".rstrip() + "\n" for line in header)
        file.writelines(f"{name}\t{council}\n" for council, name in pairs)
    return counts
