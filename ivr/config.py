"""Every setting the service reads, named once, with its default and what it means.

This is the only module that reads the environment. A `.env` file in the working directory is
loaded first (real environment variables win). `create_app(test_config)` applies its dict on top.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from dotenv import dotenv_values

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    meaning: str
    cast: Callable[[str], Any] = str


SETTINGS: tuple[Setting, ...] = (
    Setting("IVR_ENV", "development", "`production` refuses to start unless SECRET_KEY (32 characters or more), an https PUBLIC_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and a sender (TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID) are set; it logs JSON"),
    Setting("DATABASE_URL", None, "SQLAlchemy URL; default: a SQLite file `instance/ivr.sqlite3`"),
    Setting("SECRET_KEY", None, "signs staff sessions; in development one is generated into `instance/`; required in production"),
    Setting("PUBLIC_URL", None, "the https base URL Twilio calls (e.g. https://rj.example.org); signatures are checked against it"),
    Setting("TWILIO_ACCOUNT_SID", None, "the Twilio account; without it and the token nothing is sent (texts recorded as simulated)"),
    Setting("TWILIO_AUTH_TOKEN", None, "the account's auth token; when set, every Twilio route rejects a bad signature with 403"),
    Setting("TWILIO_PHONE_NUMBER", None, "the helpline's +44 number that texts come from"),
    Setting("TWILIO_MESSAGING_SERVICE_SID", None, "send texts through this Messaging Service instead of TWILIO_PHONE_NUMBER"),
    Setting("TWILIO_API_BASE_URL", "https://api.twilio.com", "where the REST client sends requests: Twilio, or a local test double"),
    Setting("TWILIO_HTTP_TIMEOUT", 10.0, "seconds before a request to Twilio's API gives up", float),
    Setting("HELPLINE_CONFIG", str(PACKAGE_DIR / "helpline.toml"), "the file with the regions, their numbers, spoken place names and opening hours"),
    Setting("OFFICE_HOURS_CACHE_SECONDS", 5.0, "how long a web worker reuses the office hours, closures and 'closed now' it read; a change reaches every caller within this time", float),
    Setting("SMS_RATE_PER_SECOND", 10.0, "the most texts a clock process sends in a second (a UK long code allows 10); 0: no limit", float),
    Setting("CLOCK_TICK_SECONDS", 15, "how often the clock looks for due work", int),
    Setting("CLOCK_STUCK_AFTER_SECONDS", 300, "a text claimed this long ago by a clock process that never finished is treated as left by a crash", int),
    Setting("SPOOL_DIR", None, "where messages and texts left while the database is unreachable wait; default `instance/spool`"),
    Setting("MAX_CONTENT_LENGTH", 65536, "the largest request body read, in bytes (Twilio's largest, a long text, is under 20,000); a larger one is refused with 413", int),
    Setting("CALLBACK_MAX_ATTEMPTS", 3, "calls through the service that ring a victim without a conversation (no answer, busy, a machine, not a good time) before the callback shows under 'Needs attention' for an officer to decide what next", int),
    Setting("RETENTION_RECORDING_DAYS", 30, "voicemail recordings are deleted (on Twilio and here) after this many days", int),
    Setting("RETENTION_CLOSED_DAYS", 90, "closed callbacks and their texts are anonymised after this many days", int),
    Setting("STAFF_IDLE_MINUTES", 30, "a staff session ends after this many minutes without a request", int),
    Setting("STAFF_SESSION_HOURS", 12, "a staff session ends this many hours after signing in, however busy", int),
    Setting("SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS", "5 per 15 minutes", "wrong passwords allowed for one account from one client address before sign-in there answers 429 (counted in the database, so across every web worker)"),
    Setting("SIGN_IN_LIMIT_PER_ADDRESS", "20 per 15 minutes", "wrong passwords allowed from one client address, whatever the accounts, before sign-in there answers 429"),
    Setting("SIGN_IN_LIMIT_PER_ACCOUNT", "100 per day", "wrong passwords allowed for one account from every address together before its sign-in answers 429 everywhere; an administrator's unlock or password reset clears it"),
    Setting("TRUSTED_PROXY_HOPS", 0, "how many reverse proxies in front of the app to trust for the client address", int),
    Setting("LOG_FORMAT", None, "`json` or `text`; default: json in production, text in development"),
    Setting("LOG_LEVEL", "INFO", "the logging level"),
)

REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "PUBLIC_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
SENDERS = ("TWILIO_PHONE_NUMBER", "TWILIO_MESSAGING_SERVICE_SID")
MIN_SECRET_KEY_LENGTH = 32


def load(environ: dict[str, str] | None = None, dotenv_path: str | os.PathLike | None = ".env") -> dict[str, Any]:
    """Return every setting from the environment and `.env`, cast, with defaults filled in."""
    source: dict[str, str | None] = {}
    if dotenv_path and Path(dotenv_path).is_file():
        source.update(dotenv_values(dotenv_path))
    source.update(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = source.get(setting.name)
        values[setting.name] = setting.default if raw in (None, "") else setting.cast(raw)
    return values


def production_problems(config: dict[str, Any]) -> list[str]:
    """What stops a production setup being safe, each naming the setting to fix.

    Without an account and a sender every text would be quietly "simulated" and retention would
    forget recordings still held at Twilio; over http Twilio's signatures and the staff session
    cookie travel in clear; a short SECRET_KEY lets session cookies be forged by guessing it.
    """
    problems = [f"set {name}" for name in REQUIRED_IN_PRODUCTION if not config.get(name)]
    if not any(config.get(name) for name in SENDERS):
        problems.append("set TWILIO_PHONE_NUMBER (the number texts come from) or TWILIO_MESSAGING_SERVICE_SID")
    public_url = config.get("PUBLIC_URL") or ""
    if public_url and not public_url.startswith("https://"):
        problems.append(f"set PUBLIC_URL to the service's https:// address, not {public_url!r}")
    secret_key = config.get("SECRET_KEY") or ""
    if secret_key and len(secret_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"set SECRET_KEY to at least {MIN_SECRET_KEY_LENGTH} random characters (it has "
                        f"{len(secret_key)}), e.g. the output of: python3 -c 'import secrets; print(secrets.token_hex(32))'")
    return problems


def finish(config: dict[str, Any], instance_path: str) -> None:
    """Fill the defaults that depend on the instance folder, and refuse an unsafe production setup."""
    if config["IVR_ENV"] == "production":
        problems = production_problems(config)
        if problems:
            raise RuntimeError("IVR_ENV=production refuses to start:\n" + "\n".join(f"- {p}" for p in problems))
    if not config.get("DATABASE_URL"):
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        config["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'ivr.sqlite3'}"
    if not config.get("SECRET_KEY"):
        # Kept in the instance folder so every worker and restart signs sessions alike.
        key_file = Path(instance_path) / "secret_key"
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        config["SECRET_KEY"] = key_file.read_text().strip()
    if not config.get("LOG_FORMAT"):
        config["LOG_FORMAT"] = "json" if config["IVR_ENV"] == "production" else "text"
    if config.get("PUBLIC_URL"):
        config["PUBLIC_URL"] = config["PUBLIC_URL"].rstrip("/")
