"""Regions come from the helpline file: their lines in E.164 and the place names callers say."""

import pytest

from ivr.config import PACKAGE_DIR
from ivr.helpline import load_helpline
from ivr.places import read_gazetteer

HELPLINE = load_helpline(PACKAGE_DIR / "helpline.toml")
GAZETTEER = read_gazetteer(PACKAGE_DIR / "places.tsv")
TEAM_OF_COUNCIL = {council: region.id for region in HELPLINE.regions for council in region.council_areas}


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


def test_the_gazetteer_covers_all_six_council_areas_and_each_is_a_team():
    assert TEAM_OF_COUNCIL == {
        "Hartlepool": "cleveland", "Middlesbrough": "cleveland", "Redcar and Cleveland": "cleveland",
        "Stockton-on-Tees": "cleveland", "County Durham": "durham", "Darlington": "durham",
    }
    assert {council for _, council in GAZETTEER} == set(TEAM_OF_COUNCIL)


@pytest.mark.parametrize(("place", "council"), GAZETTEER, ids=[place for place, _ in GAZETTEER])
def test_every_place_in_the_gazetteer_picks_its_team(place, council):
    team = TEAM_OF_COUNCIL[council]
    for said in (place, f"I live in {place}", f"my name is Stanley and I'm from {place} please"):
        found = HELPLINE.region_for_speech(said)
        assert (found.id if found else None) == team, said


@pytest.mark.parametrize(
    ("said", "region"),
    [
        # local forms
        ("Darlo", "durham"), ("the Boro", "cleveland"), ("Spenny", "durham"), ("Chester le Street", "durham"),
        # what the recogniser makes of them
        ("Middlesborough", "cleveland"), ("Peter Lee", "durham"), ("Ferry Hill", "durham"),
        ("Spennymore", "durham"), ("Red car", "cleveland"), ("Hartle pool", "cleveland"),
        ("Guisbrough", "cleveland"), ("Bishop Aukland", "durham"), ("Newton Aycliff", "durham"),
        ("Billingam", "cleveland"), ("Saltburn by the sea", "cleveland"), ("Thornaby on Tees", "cleveland"),
        ("Skelton in Cleveland", "cleveland"), ("Middleton in Teesdale", "durham"), ("Stockton on T's", "cleveland"),
        ("Chester-le-Streat", "durham"), ("Sedgfield", "durham"), ("Hurworth on Tees", "durham"),
        # a place named beats a word that is not one
        ("I need support in Durham", "durham"),
        ("My name is Stanley and I live in Redcar", "cleveland"),
        ("Stanley", "durham"),
        ("I work in Newcastle but live in Consett", "durham"),
        ("I'm from Loftus, I work in Darlington", "cleveland"),
        # nothing like a place
        ("I was hurt, the heart of it is", None), ("yes", None), ("speak to someone", None),
    ],
)
def test_local_forms_and_misrecognitions_pick_the_right_team(said, region):
    found = HELPLINE.region_for_speech(said)
    assert (found.id if found else None) == region


@pytest.mark.parametrize("said", ["I live in Sunderland", "Newcastle", "London", "near Whitby"])
def test_a_place_outside_the_area_is_known_as_outside(said):
    place = HELPLINE.place_for_speech(said)
    assert place is not None and place.region is None
    assert HELPLINE.region_for_speech(said) is None


def test_the_speech_hints_name_the_places_within_twilios_limits():
    hints = HELPLINE.place_hints
    assert {"Loftus", "Peterlee", "Chester le Street", "Stanley", "Redcar and Cleveland"} <= set(hints)
    assert all(len(h) <= 100 and "-" not in h for h in hints)  # the Gather keeps to 500 (test_voice)
    assert "Spennymore" not in hints  # the misrecognitions are not taught to the recogniser
