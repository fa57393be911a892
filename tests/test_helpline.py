"""Regions come from the helpline file: their lines in E.164 and the place names callers say."""

import pytest

from ivr.config import PACKAGE_DIR
from ivr.helpline import load_helpline

HELPLINE = load_helpline(PACKAGE_DIR / "helpline.toml")


def test_the_three_lines_are_dialled_in_e164():
    assert {r.id: r.line for r in HELPLINE.regions} == {
        "cleveland": "+443302234312",
        "durham": "+443000031818",
        "vcas": "+443030401099",
    }
    assert HELPLINE.default_region.id == "vcas"


@pytest.mark.parametrize(
    ("said", "region"),
    [
        ("Stockton", "cleveland"),
        ("I live in Stockton-on-Tees", "cleveland"),
        ("middlesbrough", "cleveland"),
        ("Redcar and Cleveland", "cleveland"),
        ("Bishop Auckland", "durham"),
        ("Darlington.", "durham"),
        ("county durham please", "durham"),
        ("I'm not sure", "vcas"),
        ("London", None),
        ("", None),
    ],
)
def test_spoken_place_names_pick_the_region(said, region):
    found = HELPLINE.region_for_speech(said)
    assert (found.id if found else None) == region
