"""How the service words times, days, windows and phone numbers, for each of its three readers:

- the phone line, spoken by Twilio's Polly voice: "Monday the 30th of November", "12 noon",
  numbers as words grouped the British way ("oh seven nine one one, one two three, four five six"),
  because Polly reads a written "0" as "zero";
- the texts, written short and in GSM-7 (a hyphen, never a dash): "Mon 30 Nov, 9am-12 noon";
- the staff pages, written: "Mon 30 Nov, 9am–12 noon", the year only when it is not this year's.

One formatter for all three: the prompts file's filters (ivr.prompts), the reminder texts
(ivr.reminders) and the staff pages' Jinja filters (ivr.staff.display) all call these. Times stored
in UTC are turned into London's wall clock by ivr.hours; nothing here reads the clock: "this year"
is the caller's `today`.
"""

from __future__ import annotations

from datetime import date, datetime, time

from ivr.hours import london
from ivr.phone import for_staff

_DIGIT_WORDS = ("oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
WRITTEN_DASH = "\u2013"  # an en dash, between the two ends of a window on a page
TEXT_DASH = "-"  # GSM-7 has no en dash: one would make a text cost two or three


def clock(moment: time) -> str:
    """`9am`, `12 noon`, `5:30pm`, `12 midnight`: a time as people say and write it."""
    if (moment.hour, moment.minute) == (12, 0):
        return "12 noon"
    if (moment.hour, moment.minute) == (0, 0):
        return "12 midnight"
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"


def ordinal(number: int) -> str:
    """`1st`, `2nd`, `3rd`, `11th`, `22nd`, `30th`."""
    suffix = "th" if 11 <= number % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


# --- spoken ---------------------------------------------------------------------------------------


def spoken_date(day: date) -> str:
    """`Monday the 30th of November`: a date the way it is said aloud in Britain."""
    return f"{day:%A} the {ordinal(day.day)} of {day:%B}"


def spoken_duration(seconds: int) -> str:
    """`3 minutes`, `1 minute`, `90 seconds`, `2 minutes and 30 seconds`."""
    minutes, rest = divmod(seconds, 60)
    if not minutes or (minutes == 1 and rest):
        return f"{seconds} seconds"
    said = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{said} and {rest} seconds" if rest else said


def spoken_digits(text: str) -> str:
    """`oh seven nine`: each digit of `text` as a word, anything else left out."""
    return " ".join(_DIGIT_WORDS[int(character)] for character in text if character.isdigit())


def spoken_number(number: str) -> str:
    """A UK number read back in the groups people say it in, e.g. `+447911123456` as
    `oh seven nine one one, one two three, four five six`, `03000031818` as `oh three oh oh,
    oh oh three, one eight one eight`: the national groups (phonenumbers' spacing), with a
    six-digit group said as two threes."""
    groups = []
    for group in for_staff(number).split():
        groups += [group[:3], group[3:]] if len(group) == 6 else [group]
    return ", ".join(spoken_digits(group) for group in groups if any(c.isdigit() for c in group))


# --- written --------------------------------------------------------------------------------------


def _year_unless(day: date, today: date | None) -> str:
    return "" if today is not None and day.year == today.year else f" {day.year}"


def written_date(day: date, today: date | None = None) -> str:
    """`Monday 30 November`, or `Monday 4 January 2027` when `today` is in another year (or not given)."""
    return f"{day:%A} {day.day} {day:%B}{_year_unless(day, today)}"


def short_date(day: date, today: date | None = None) -> str:
    """`Mon 30 Nov`, or `Mon 4 Jan 2027` when `today` is in another year (or not given)."""
    return f"{_day_and_month(day)}{_year_unless(day, today)}"


def _day_and_month(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def span(starts: time, ends: time, dash: str = WRITTEN_DASH) -> str:
    """`9am–12 noon`."""
    return f"{clock(starts)}{dash}{clock(ends)}"


def window(starts: datetime, ends: datetime, today: date | None = None) -> str:
    """A callback window (UTC moments) as staff read it: `Mon 30 Nov, 9am–12 noon`."""
    local_start, local_end = london(starts), london(ends)
    return f"{short_date(local_start.date(), today)}, {span(local_start.time(), local_end.time())}"


def moment(at: datetime, today: date | None = None) -> str:
    """A UTC moment as staff read it: `Mon 30 Nov, 2:05pm` (`Tue 1 Dec 2026, 9am` in another year)."""
    local = london(at)
    return f"{short_date(local.date(), today)}, {clock(local.time())}"


def text_window(starts: datetime, ends: datetime) -> str:
    """A callback window (UTC moments) for a text: `Mon 30 Nov, 9am-12 noon` (GSM-7, no year:
    a reminder goes at most a day before)."""
    local_start, local_end = london(starts), london(ends)
    return f"{_day_and_month(local_start.date())}, {span(local_start.time(), local_end.time(), TEXT_DASH)}"
