"""The SMS rules on their own: which entry a text chooses, which country a number votes
from, and that every reply fits a short message in every language."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.contests.demo import demo_definition
from service.sms.choice import chosen_entry, significant
from service.sms.numbers import REST_OF_WORLD, sender_of
from service.sms.replies import REPLY_KEYS, reply_language, reply_text
from service.web.translations import COUNTRIES, COUNTRY_LANGUAGE, LANGUAGES

CONTEST = demo_definition()
ENTRIES = CONTEST.entries
VOTING = CONTEST.voting_countries
# Decimal digits of several scripts: ASCII, Arabic-Indic, Extended Arabic-Indic (Persian),
# Devanagari, Bengali, Mongolian, full-width.
DIGIT_ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0x9E6, 0x1810, 0xFF10]


def local(number: int, zero: int) -> str:
    return "".join(chr(zero + int(d)) for d in str(number))


@given(entry=st.sampled_from(ENTRIES), zero=st.sampled_from(DIGIT_ZEROS),
       pad=st.sampled_from(["", " ", "  ", "\t", "#", "No. "]),
       trail=st.sampled_from(["", " ", ".", "!"]))
def test_a_running_order_number_in_any_script_chooses_its_entry(entry, zero, pad, trail) -> None:
    text = pad + local(entry.running_order, zero) + trail
    if pad == "No. ":  # letters around a number are not a vote
        assert chosen_entry(text, ENTRIES) is None
    else:
        assert chosen_entry(text, ENTRIES) == entry.country


@given(entry=st.sampled_from(ENTRIES), data=st.data())
def test_a_country_code_chooses_its_entry_in_any_case_with_spaces(entry, data) -> None:
    letters = [data.draw(st.sampled_from([c.lower(), c.upper()])) for c in entry.country]
    sep = data.draw(st.sampled_from(["", " ", "  ", "-", "."]))
    text = data.draw(st.sampled_from(["", " "])) + sep.join(letters) + data.draw(
        st.sampled_from(["", " ", "\n"]))
    assert chosen_entry(text, ENTRIES) == entry.country


def test_full_width_and_cyrillic_look_alike_codes_are_forgiven() -> None:
    assert chosen_entry("ＫＺ", ENTRIES) == "KZ"
    assert chosen_entry("КZ", ENTRIES) == "KZ"  # Cyrillic К
    assert chosen_entry("ам", ENTRIES) == "AM"  # Cyrillic а, м
    assert chosen_entry("０３", ENTRIES) == next(e.country for e in ENTRIES if e.running_order == 3)


@given(st.text(max_size=40))
def test_any_text_chooses_at_most_one_known_entry_and_never_raises(text) -> None:
    assert chosen_entry(text, ENTRIES) in {None, *(e.country for e in ENTRIES)}


@pytest.mark.parametrize("text", ["", "   ", "hello", "99", "0", "KZ 3", "3 4", "XX", "K", "KZK",
                                  "١٠٠٠"])
def test_texts_that_name_no_single_entry_choose_nothing(text) -> None:
    assert chosen_entry(text, ENTRIES) is None


def test_spaces_inside_a_number_are_forgiven_too() -> None:
    assert chosen_entry("1 2", ENTRIES) == next(e.country for e in ENTRIES
                                                if e.running_order == 12)


def test_significant_keeps_letters_and_digits_only() -> None:
    assert significant(" k-z! ") == "KZ"
    assert significant("३") == "3"


def mobile(region: str) -> str:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize("region", [c for c in COUNTRIES if c != REST_OF_WORLD])
def test_a_number_votes_from_its_e164_country_in_every_written_form(region) -> None:
    number = mobile(region)
    for form in (number, number[1:], "00" + number[1:], number[:4] + " " + number[4:]):
        sender = sender_of(form, VOTING)
        assert sender is not None and sender.country == region and sender.e164 == number


@pytest.mark.parametrize("region", ["RU", "GB", "US", "DE", "TR"])
def test_a_number_outside_the_voting_countries_votes_as_rest_of_world(region) -> None:
    sender = sender_of(mobile(region), VOTING)
    assert sender is not None and sender.country == REST_OF_WORLD and sender.region == region


def test_kazakhstan_and_russia_share_plus_seven_and_are_told_apart() -> None:
    kz, ru = sender_of("+77012345678", VOTING), sender_of("+79161234567", VOTING)
    assert kz is not None and kz.country == "KZ"
    assert ru is not None and ru.country == REST_OF_WORLD


@given(st.text(max_size=40))
def test_what_is_no_valid_number_has_no_sender(text) -> None:
    sender = sender_of(text, VOTING)
    if sender is not None:
        assert phonenumbers.is_valid_number(phonenumbers.parse(sender.e164))


@pytest.mark.parametrize("text", ["", "Beeline", "12345", "+", "+999123456789"])
def test_alphanumeric_senders_and_short_codes_are_no_voters(text) -> None:
    assert sender_of(text, VOTING) is None


def test_the_reply_speaks_the_numbers_own_language() -> None:
    assert reply_language("KZ") == "kk" and reply_language("RU") == "en"
    assert set(COUNTRY_LANGUAGE.values()) <= set(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_reply_is_filled_and_fits_two_short_messages(lang) -> None:
    """UCS-2 messages hold 70 characters, 67 each when concatenated: two of them."""
    for outcome in REPLY_KEYS:
        for country in COUNTRIES:
            text = reply_text(outcome, lang, entry=country, remaining=20, entries=12)
            assert "{" not in text and len(text) <= 134, (lang, outcome, text)
