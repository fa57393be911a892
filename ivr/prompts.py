"""The words the phone line speaks and listens for, read once from templates/voice/prompts.toml.

Each prompt is a Jinja template compiled when the file is loaded; rendering one gives the
sentences to say, whitespace tidied. Filters turn values into speech (dates, times, digits and
numbers), in the words ivr.wording gives every reader of the service.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

from ivr import wording
from ivr.config import PROJECT_DIR

PROMPTS_FILE = PROJECT_DIR / "templates" / "voice" / "prompts.toml"


_BETWEEN_LINES = "\x1e"  # ASCII's record separator: never in a prompt's words


@dataclass(frozen=True)
class Listening:
    """What a menu listens for: hints for Twilio's recogniser, and the phrases that mean each key."""

    hints: str
    words: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Speech:
    """A sentence to say, and the voice and language to say it in."""

    text: str
    voice: str
    language: str


@dataclass(frozen=True)
class Language:
    """Another language the line offers: its id (stored with a callback), its name for staff, and
    the Twilio voice that speaks it (None where Twilio has none: its words are said in English)."""

    id: str
    name: str
    voice: str | None
    language: str | None
    review: str  # e.g. "awaiting review by a native speaker"


class Prompts:
    """The prompts file, compiled."""

    def __init__(self, raw: dict[str, Any]):
        self.voice: str = raw["voice"]["say_voice"]
        self.language: str = raw["voice"]["language"]
        labels = {"regions": raw.get("regions", {}), "windows": raw.get("windows", {}),
                  "languages": {entry["id"]: entry["name"] for entry in raw.get("languages", ())}}
        environment = Environment(undefined=StrictUndefined, autoescape=False)
        environment.filters.update(
            day=wording.spoken_date, weekday=lambda day: f"{day:%A}", time=wording.clock,
            digits=wording.spoken_digits, number=wording.spoken_number, duration=wording.spoken_duration,
            window=lambda window_id: labels["windows"].get(window_id, window_id),
            region=lambda region: labels["regions"].get(region.id, region.spoken_name),
            language=lambda language_id: labels["languages"].get(language_id, language_id),
        )
        # A prompt's lines are one template, so a Jinja block may span them.
        self._say: dict[str, Template] = {
            name: environment.from_string(_BETWEEN_LINES.join([value] if isinstance(value, str) else value))
            for name, value in raw["say"].items()
        }
        self.languages: tuple[Language, ...] = tuple(
            Language(entry["id"], entry["name"], entry.get("voice"), entry.get("language"), entry.get("review", ""))
            for entry in raw.get("languages", ()))
        self._translated: dict[str, dict[str, Template]] = {
            entry["id"]: {name: environment.from_string(_BETWEEN_LINES.join([value] if isinstance(value, str) else value))
                          for name, value in entry.get("say", {}).items()}
            for entry in raw.get("languages", ()) if entry.get("voice")
        }
        repeat = raw["listen"]["repeat"]
        self._listen = {
            name: Listening(
                hints=", ".join(filter(None, (entry["hints"], repeat["hints"]))),
                words={key: tuple(phrases) for key, phrases in (entry["words"] | repeat["words"]).items()},
            )
            for name, entry in raw["listen"].items()
        }

    def lines(self, name: str, /, **context: Any) -> tuple[str, ...]:
        """The sentences of prompt `name`, each a piece to say, with `context` filled in; lines
        left empty (a condition not met) are dropped."""
        rendered = self._say[name].render(context).split(_BETWEEN_LINES)
        return tuple(line for text in rendered if (line := " ".join(text.split())))

    def other_language(self, language_id: str) -> Language | None:
        return next((language for language in self.languages if language.id == language_id), None)

    def spoken(self, language_id: str, prompt: str, /, **context: Any) -> tuple[Speech, ...]:
        """Prompt `prompt` of the other-languages flow in the language, with its voice; where the
        language has no voice or no words for it, the English prompt `language_<prompt>`."""
        template = self._translated.get(language_id, {}).get(prompt)
        language = self.other_language(language_id)
        if template is None or language is None or not language.voice:
            return tuple(Speech(line, self.voice, self.language) for line in self.lines(f"language_{prompt}", **context))
        rendered = template.render(context).split(_BETWEEN_LINES)
        return tuple(Speech(line, language.voice, language.language or self.language)
                     for text in rendered if (line := " ".join(text.split())))

    def listening(self, menu: str) -> Listening:
        return self._listen[menu]


@lru_cache(maxsize=4)
def load_prompts(path: str | Path = PROMPTS_FILE) -> Prompts:
    """The prompts file, read and compiled once per process."""
    with open(path, "rb") as file:
        return Prompts(tomllib.load(file))
