"""Regions come from the helpline file: their lines in E.164 and the place names callers say."""

import tomllib

import pytest

from ivr.config import PACKAGE_DIR
from ivr.helpline import load_helpline
from ivr.places import normalise_words, read_gazetteer
from ivr.prompts import PROMPTS_FILE, load_prompts

HELPLINE = load_helpline(PACKAGE_DIR / "helpline.toml")
GAZETTEER = read_gazetteer(PACKAGE_DIR / "places.tsv")
TEAM_OF_COUNCIL = {council: region.id for region in HELPLINE.regions for council in region.council_areas}
TEAMS_OF_NAME: dict[str, set[str]] = {}
for _place in GAZETTEER:
    TEAMS_OF_NAME.setdefault(normalise_words(_place.spoken), set()).add(TEAM_OF_COUNCIL[_place.council])
# Named only with words callers answer menus with: heard only after "in", "from" or "near".
EVERYDAY_NAMES = {"No Place", "Number One"}


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
    assert {place.council for place in GAZETTEER} == set(TEAM_OF_COUNCIL)


def test_the_gazetteer_is_the_published_extract_with_each_place_added_by_hand_saying_why():
    header = (PACKAGE_DIR / "places.tsv").read_text(encoding="utf-8").split("\n\n# ----")[0]
    assert "ONS Index of Place Names 2024 (Open Government Licence v3.0; contains OS data \u00a9 Crown" in header
    assert ("Tobombadil/Bankable services/ingest/data/gb_settlements.tsv at commit "
            "2ad19e662b292f0874324928d46ef1d353dd91fa") in header
    published = [p for p in GAZETTEER if not p.by_hand]
    by_hand = [p for p in GAZETTEER if p.by_hand]
    assert len(published) > len(by_hand) > 0 and ("Loftus", "Redcar and Cleveland", "") in published
    reasons = ("a name several places", "not among the extract's rows", "the village near")
    assert all(p.by_hand.startswith(reasons) for p in by_hand)
    assert {normalise_words(p.spoken) for p in published}.isdisjoint(normalise_words(p.spoken) for p in by_hand)


@pytest.mark.parametrize("place", GAZETTEER, ids=[f"{p.spoken} ({p.council})" for p in GAZETTEER])
def test_every_place_in_the_gazetteer_picks_its_team_unless_two_teams_share_its_name(place):
    teams = TEAMS_OF_NAME[normalise_words(place.spoken)]
    team = TEAM_OF_COUNCIL[place.council] if len(teams) == 1 else None  # "Stainton": asked again
    said = [f"I live in {place.spoken}", f"my name is Stanley and I'm from {place.spoken} please"]
    if place.spoken not in EVERYDAY_NAMES:
        said.append(place.spoken)
    for words in said:
        found = HELPLINE.region_for_speech(words)
        assert (found.id if found else None) == team, words


def test_a_name_two_teams_areas_share_picks_neither_even_beside_another_place():
    assert TEAMS_OF_NAME["stainton"] == TEAMS_OF_NAME["hilton"] == {"cleveland", "durham"}
    for said in ("Stainton", "I live in Hilton", "My name is Stanley and I live in Stainton", "Stainten", "Hillton"):
        assert HELPLINE.region_for_speech(said) is None, said


def _menu_phrases() -> set[str]:
    """Everything a caller may say to any menu, as the prompts file lists it."""
    with open(PROMPTS_FILE, "rb") as file:
        menus = tomllib.load(file)["listen"]
    phrases = set()
    for menu in menus:
        listening = load_prompts().listening(menu)
        phrases.update(p for words in listening.words.values() for p in words)
        phrases.update(h.strip() for h in listening.hints.split(",") if h.strip())
    return phrases


@pytest.mark.parametrize("said", sorted(_menu_phrases() | {
    "one", "press one", "number one", "press number one", "option two", "the middle one", "the first one",
    "the top one", "the last one", "no", "no place to go", "I don't know", "say that again", "sorry what",
}))
def test_what_callers_say_to_menus_is_not_taken_for_a_place(said):
    place = HELPLINE.place_for_speech(said)
    assert place is None, (said, place)


@pytest.mark.parametrize(
    ("said", "region"),
    [
        # named only with menu words: heard after "in", "from" or "near", never on its own
        ("I live in Number One", "durham"), ("from No Place", "durham"), ("Number One", None),
        # places the published index adds ("Pelaw, South" is South Pelaw)
        ("South Pelaw", "durham"), ("I'm in Middlestone", "durham"), ("middle stone", "durham"),
        ("Bank Top", "durham"), ("Sunny Brow", "durham"), ("Grangetown", "cleveland"), ("Acklam", "cleveland"),
    ],
)
def test_the_published_places_and_names_made_of_everyday_words(said, region):
    found = HELPLINE.region_for_speech(said)
    assert (found.id if found else None) == region


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
    assert {"Loftus", "Peterlee", "Chester le Street", "Stanley", "Redcar and Cleveland"} <= set(hints[:490])
    assert {"Acklam", "Greatham", "Grangetown", "Skelton in Cleveland", "Stockton on Tees"} <= set(hints[:490])
    assert "South Pelaw" in hints and "Pelaw South" not in hints  # as callers say it
    assert all(len(h) <= 100 and "-" not in h for h in hints)  # the Gather keeps to 500 (test_voice)
    assert "Spennymore" not in hints  # the misrecognitions are not taught to the recogniser
