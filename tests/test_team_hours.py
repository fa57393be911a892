"""A team with its own opening hours (the helpline file's `hours` on a region): its line is rung, its
closed menu says when it opens, and its callbacks are offered, within them; the other teams keep the
helpline's hours."""

from __future__ import annotations

import pytest

from ivr import config
from ivr.helpline import load_helpline
from tests.conftest import at_london

LINES = {"cleveland": "+443302234312", "durham": "+443000031818", "vcas": "+443030401099"}
DURHAM_HOURS = 'hours = { opens = "10:00", closes = "16:00", days = ["Mon", "Tue", "Wed", "Thu"] }'


@pytest.fixture
def app_config(app_config, tmp_path):
    """The shipped helpline file, with the Durham hub open 10am–4pm Monday to Thursday."""
    source = (config.PACKAGE_DIR / "helpline.toml").read_text()
    mine = tmp_path / "helpline.toml"
    mine.write_text(source.replace('# hours = { opens = "10:00"', 'hours = { opens = "10:00"', 1))
    assert DURHAM_HOURS in mine.read_text()
    app_config["HELPLINE_CONFIG"] = str(mine)
    return app_config


@pytest.mark.parametrize(
    ("at", "rung"),
    [
        (at_london(2026, 11, 30, 9, 59), False),  # Monday, before the hub opens (the others are open)
        (at_london(2026, 11, 30, 10, 0), True),
        (at_london(2026, 11, 30, 15, 59, 59), True),  # a second before it closes
        (at_london(2026, 11, 30, 16, 0), False),  # closed: the others are still open until 5pm
        (at_london(2026, 12, 4, 11, 0), False),  # Friday: not one of its days
    ],
)
def test_the_team_is_rung_only_in_its_own_hours(phone, at, rung):
    call = phone.ring(at=at).press("3").press("2")
    if rung:
        assert call.dialled == [LINES["durham"]]
    else:
        assert call.dialled == [] and "Our office is closed just now." in call.heard
        assert "To leave a message, press 1." in call.heard


def test_after_its_closing_time_the_team_says_when_it_opens_while_another_team_is_rung(phone):
    monday_4pm = at_london(2026, 11, 30, 16, 0)
    durham = phone.ring(at=monday_4pm).press("3").say_words("Peterlee")
    assert "We open again tomorrow at 10am." in durham.heard and durham.dialled == []
    thursday_4pm = phone.ring(at=at_london(2026, 12, 3, 16, 30)).press("3").press("2")
    assert "We open again on Monday at 10am." in thursday_4pm.heard
    cleveland = phone.ring(at=monday_4pm).press("3").say_words("Loftus")
    assert cleveland.dialled == [LINES["cleveland"]]


def test_its_callbacks_are_offered_within_its_hours(phone):
    call = phone.ring(at=at_london(2026, 11, 30, 16, 0)).press("3").press("2").press("2")
    assert "For Tuesday the 1st of December, press 1." in call.heard
    assert "Friday" not in call.heard  # not one of its days
    call.press("1")
    assert "For the morning, between 10am and 12 noon, press 1." in call.heard
    assert "For the afternoon, between 12 noon and 4pm, press 2." in call.heard
    call.press("2").press("1").press("2").press("2")
    assert "We'll call you on Tuesday the 1st of December, in the afternoon, between 12 noon and 4pm." in call.heard


def test_a_team_that_closes_before_it_opens_stops_the_app_with_the_reason(tmp_path):
    source = (config.PACKAGE_DIR / "helpline.toml").read_text()
    broken = tmp_path / "helpline.toml"
    broken.write_text(source.replace('# hours = { opens = "10:00", closes = "16:00"',
                                     'hours = { opens = "16:00", closes = "10:00"', 1))
    with pytest.raises(ValueError, match="durham"):
        load_helpline(broken)
