"""UK phone numbers: parsing what a caller gives us, which we may call back, telling mobiles
apart, masking for logs."""

from __future__ import annotations

from enum import Enum
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

_MOBILE_TYPES = {PhoneNumberType.MOBILE}


@lru_cache(maxsize=4096)  # every step of a call parses the same caller's number again
def parse_uk(raw: str | None) -> str | None:
    """The E.164 form of a valid UK number of any kind (`0113 496 0123`, `+441134960123`), else None."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw.strip(), "GB")
    except NumberParseException:
        return None
    if number.country_code != 44 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Refusal(Enum):
    """Why a number is not one we call back. The staff form and the phone line each say it in their own words."""

    NOT_A_NUMBER = "not_a_number"  # not a valid number at all
    ABROAD = "abroad"  # valid, but not in the UK numbering plan
    COSTS_EXTRA = "costs_extra"  # premium rate, shared cost, personal (070) or corporate (055) numbers
    NOT_A_PERSONAL_LINE = "not_a_personal_line"  # pagers, VoIP (056) and freephone numbers


# The regions that share +44: Great Britain and Northern Ireland, and the Crown dependencies.
UK_REGIONS = frozenset({"GB", "GG", "IM", "JE"})
_PERSONAL_LINES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_COSTS_EXTRA = {PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.PERSONAL_NUMBER}


@lru_cache(maxsize=4096)  # asked again at several steps of a call
def callable_number(raw: str | None) -> tuple[str | None, Refusal | None]:
    """The E.164 form of a number we may call back, or why not: `(e164, None)` or `(None, refusal)`.

    The one rule for the phone line (the caller's own line, and a number they key in) and the
    staff form: UK mobiles and fixed lines, and 03 numbers (charged as geographic calls). Refused:
    premium-rate and service numbers (09, 084, 087), personal (070) and corporate (055) numbers,
    pagers (076), VoIP (056), freephone (080), numbers abroad, and whatever phonenumbers cannot
    place. Premium and forwarding numbers would let anyone make the service pay for calls (toll
    fraud), and officers dial whatever is stored.

    The Crown dependencies (Guernsey, Jersey, the Isle of Man) share +44 and the UK numbering
    plan, and victims there hold such numbers: their mobiles and fixed lines are accepted, and
    their other kinds refused exactly as Great Britain's are. (07911 123456, the tests' mobile,
    is a Guernsey one.)
    """
    try:
        number = phonenumbers.parse((raw or "").strip(), "GB")
    except NumberParseException:
        return None, Refusal.NOT_A_NUMBER
    if not phonenumbers.is_valid_number(number):  # its type would be UNKNOWN
        return None, Refusal.NOT_A_NUMBER
    if phonenumbers.region_code_for_number(number) not in UK_REGIONS:
        return None, Refusal.ABROAD
    kind = phonenumbers.number_type(number)
    if kind in _PERSONAL_LINES or (kind == PhoneNumberType.UAN and _charged_as_geographic(number)):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None
    if kind in _COSTS_EXTRA or kind == PhoneNumberType.UAN:
        return None, Refusal.COSTS_EXTRA
    return None, Refusal.NOT_A_PERSONAL_LINE  # pagers, VoIP, freephone


def _charged_as_geographic(uan: phonenumbers.PhoneNumber) -> bool:
    # phonenumbers files both 03 numbers and 055 corporate numbers (which cost more) as UAN and
    # has no type that tells them apart: Ofcom's 03 range is the one left to the digits.
    return str(uan.national_number).startswith("3")


@lru_cache(maxsize=4096)
def is_mobile(e164: str) -> bool:
    """Whether a valid UK number is a mobile (the only kind we offer to text)."""
    return phonenumbers.number_type(phonenumbers.parse(e164, "GB")) in _MOBILE_TYPES


def national_digits(e164: str) -> str:
    """The number as a caller would key it, e.g. `01134960123`."""
    return phonenumbers.format_number(phonenumbers.parse(e164, "GB"), phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")


@lru_cache(maxsize=4096)  # a page of the staff queue shows hundreds, and officers come back to it
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
