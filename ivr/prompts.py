"""The words the phone line speaks and listens for, read once from templates/voice/prompts.toml.

Each prompt is a Jinja template compiled when the file is loaded; rendering one gives the
sentences to say, whitespace tidied. Filters turn values into speech (dates, times, digits).
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, Template, TemplateSyntaxError, meta

from ivr.config import PROJECT_DIR

PROMPTS_FILE = PROJECT_DIR / "templates" / "voice" / "prompts.toml"


def spoken_day(day: date) -> str:
    """`Monday 30 November`."""
    return f"{day:%A} {day.day} {day:%B}"


def spoken_weekday(day: date) -> str:
    return f"{day:%A}"


def spoken_time(moment: time) -> str:
    """`9am`, `12 noon`, `5pm`, `9:30am`."""
    if moment == time(12):
        return "12 noon"
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"


def spoken_digits(number: str) -> str:
    """`0 7 9 1 1`: each digit said on its own."""
    return " ".join(character for character in number if character.isdigit())


_BETWEEN_LINES = "\x1e"  # ASCII's record separator: never in a prompt's words


def _tidy(texts) -> tuple[str, ...]:
    """Each text's words single-spaced; texts left empty (a condition not met) are dropped."""
    return tuple(line for text in texts if (line := " ".join(text.split())))


@dataclass(frozen=True)
class Listening:
    """What a menu listens for: hints for Twilio's recogniser, and the phrases that mean each key."""

    hints: str
    words: Mapping[str, tuple[str, ...]]


class Prompts:
    """The prompts file, compiled."""

    def __init__(self, raw: dict[str, Any]):
        self.voice: str = raw["voice"]["say_voice"]
        self.language: str = raw["voice"]["language"]
        labels = {"regions": raw.get("regions", {}), "windows": raw.get("windows", {})}
        environment = Environment(undefined=StrictUndefined, autoescape=False)
        environment.filters.update(
            day=spoken_day, weekday=spoken_weekday, time=spoken_time, digits=spoken_digits,
            window=lambda window_id: labels["windows"].get(window_id, window_id),
            region=lambda region: labels["regions"].get(region.id, region.spoken_name),
        )
        # A prompt with nothing to fill in is kept as its words; the others as one template for all
        # their lines, rendered in one pass, and as a template a line, with the values each uses.
        self._say: dict[str, tuple[str, ...] | Template] = {}
        self._each_line: dict[str, tuple[tuple[Template, frozenset[str]], ...]] = {}
        for name, value in raw["say"].items():
            texts = [value] if isinstance(value, str) else value
            if not any("{" in t for t in texts):
                self._say[name] = _tidy(texts)
                continue
            self._say[name] = environment.from_string(_BETWEEN_LINES.join(texts))
            try:
                self._each_line[name] = tuple(
                    (environment.from_string(t), frozenset(meta.find_undeclared_variables(environment.parse(t))))
                    for t in texts)
            except TemplateSyntaxError:  # a block that spans lines: the prompt is only rendered whole
                pass
        repeat = raw["listen"]["repeat"]
        self._listen = {
            name: Listening(
                hints=", ".join(filter(None, (entry["hints"], repeat["hints"]))),
                words={key: tuple(phrases) for key, phrases in (entry["words"] | repeat["words"]).items()},
            )
            for name, entry in raw["listen"].items()
        }

    def lines(self, name: str, **context: Any) -> tuple[str, ...]:
        """The sentences of prompt `name`, each a piece to say, with `context` filled in."""
        say = self._say[name]
        return say if isinstance(say, tuple) else _tidy(say.render(context).split(_BETWEEN_LINES))

    def lines_using(self, name: str, values: Collection[str]) -> tuple[int, ...] | None:
        """Which lines of prompt `name` (counted from 0, before empty ones are dropped) use any of
        `values`; None when its lines cannot be rendered apart (a block spans them)."""
        if name not in self._each_line:
            return None
        return tuple(n for n, (_, uses) in enumerate(self._each_line[name]) if uses & set(values))

    def line_count(self, name: str) -> int:
        return len(self._each_line[name])

    def line(self, name: str, n: int, **context: Any) -> str:
        """Line `n` of prompt `name` alone, with `context` filled in ("" when it says nothing)."""
        template, _ = self._each_line[name][n]
        return " ".join(template.render(context).split())

    def listening(self, menu: str) -> Listening:
        return self._listen[menu]


@lru_cache(maxsize=4)
def load_prompts(path: str | Path = PROMPTS_FILE) -> Prompts:
    """The prompts file, read and compiled once per process."""
    with open(path, "rb") as file:
        return Prompts(tomllib.load(file))
