"""Which numbers the service calls back, by phonenumbers' type; mobiles; masking for logs."""

import pytest

from ivr.phone import Refusal, callable_number, is_mobile, mask

COSTS_EXTRA, NOT_A_LINE = Refusal.COSTS_EXTRA, Refusal.NOT_A_PERSONAL_LINE


@pytest.mark.parametrize(
    ("given", "called"),
    [
        ("0113 496 0123", "+441134960123"),  # Ofcom's drama range, Leeds
        ("020 7946 0999", "+442079460999"),  # Ofcom's drama range, London
        ("+44 113 496 0000", "+441134960000"),
        ("07924 123456", "+447924123456"),  # a GB mobile
        ("0300 003 1818", "+443000031818"),  # 03: charged as a geographic call
        ("0330 223 4312", "+443302234312"),
        ("07911 123456", "+447911123456"),  # a Guernsey mobile: the Crown dependencies are in
        ("01481 256789", "+441481256789"),  # a Guernsey landline
        ("07797 123456", "+447797123456"),  # a Jersey mobile
        ("01534 446000", "+441534446000"),  # a Jersey landline
        ("07624 123456", "+447624123456"),  # an Isle of Man mobile
        ("01624 686000", "+441624686000"),  # an Isle of Man landline
    ],
)
def test_mobiles_landlines_and_03_numbers_are_called_back(given, called):
    assert callable_number(given) == (called, None)


@pytest.mark.parametrize(
    ("given", "refusal"),
    [
        ("0909 879 0000", COSTS_EXTRA),  # premium rate
        ("0871 234 5678", COSTS_EXTRA),  # service number
        ("0844 477 1000", COSTS_EXTRA),
        ("0845 123 4567", COSTS_EXTRA),
        ("070 1234 5678", COSTS_EXTRA),  # "personal" numbers forward anywhere, at a price
        ("055 1234 5678", COSTS_EXTRA),  # corporate numbers: phonenumbers calls them UAN, like 03
        ("076 2312 3456", NOT_A_LINE),  # pager
        ("056 1234 5678", NOT_A_LINE),  # VoIP
        ("0800 111 1111", NOT_A_LINE),  # freephone
        ("0808 157 0000", NOT_A_LINE),
        ("+33 1 23 45 67 89", Refusal.ABROAD),
        ("0033 1 23 45 67 89", Refusal.ABROAD),  # as a caller would key it
        ("07700 900123", Refusal.NOT_A_NUMBER),  # Ofcom's drama mobiles are unallocated
        ("0791112345", Refusal.NOT_A_NUMBER),  # a digit short
        ("999", Refusal.NOT_A_NUMBER),
        ("not a number", Refusal.NOT_A_NUMBER),
        ("", Refusal.NOT_A_NUMBER),
        (None, Refusal.NOT_A_NUMBER),
    ],
)
def test_numbers_that_cost_or_reach_no_one_are_refused_with_the_reason(given, refusal):
    assert callable_number(given) == (None, refusal)


def test_only_mobiles_are_offered_texts():
    assert is_mobile("+447924123456") and is_mobile("+447911123456")
    assert not is_mobile("+441134960123") and not is_mobile("+443000031818")


def test_a_number_in_a_log_shows_only_its_last_three_digits():
    assert mask("+441134960123") == "**********123"
    assert mask(None) == "-"
