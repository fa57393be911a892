"""UK phone numbers: parsing what a caller gives us, telling mobiles apart, masking for logs."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

_MOBILE_TYPES = {PhoneNumberType.MOBILE}


@lru_cache(maxsize=4096)  # every step of a call parses the same caller's number again
def parse_uk(raw: str | None) -> str | None:
    """The E.164 form of a valid UK number (`07700 900123`, `+447700900123`), else None."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw.strip(), "GB")
    except NumberParseException:
        return None
    if number.country_code != 44 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def is_mobile(e164: str) -> bool:
    """Whether a valid UK number is a mobile (the only kind we offer to text)."""
    return phonenumbers.number_type(phonenumbers.parse(e164, "GB")) in _MOBILE_TYPES


def national_digits(e164: str) -> str:
    """The number as a caller would key it, e.g. `07700900123`."""
    return phonenumbers.format_number(phonenumbers.parse(e164, "GB"), phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")


def for_staff(e164: str) -> str:
    """The number as staff read and dial it, spaced the national way, e.g. `07911 123456`."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, "GB"), phonenumbers.PhoneNumberFormat.NATIONAL)
    except NumberParseException:
        return e164


def last_digits(number: str, count: int = 3) -> str:
    return number[-count:]


def mask(number: str | None) -> str:
    """A number fit for a log line: only its last three digits show."""
    if not number:
        return "-"
    return "*" * max(len(number) - 3, 0) + number[-3:]
