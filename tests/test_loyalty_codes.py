"""Card codes: shape, normalization and a check character that catches every single substitution and
every adjacent transposition (proved exhaustively over positions and symbols, and by hypothesis)."""

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.loyalty.codes import (
    ALPHABET,
    CHECK_SYMBOLS,
    check_symbol,
    format_code,
    looks_like_code,
    new_code,
    normalize_code,
)


@pytest.fixture(autouse=True)
def _context():
    """Pure functions: no app, no database (overrides conftest's app context)."""
    yield


data_strings = st.text(alphabet=ALPHABET, min_size=8, max_size=8)


def compact(code: str) -> str:
    return code.replace("-", "")


def test_new_codes_are_canonical_typeable_and_valid():
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000  # random enough: no repeat in 2,000 draws of ~10^12
    for code in codes:
        assert len(code) == 11 and code[4] == "-" and code[9] == "-"
        assert set(compact(code)) <= set(ALPHABET)  # the check character is never one of *~$=U
        assert normalize_code(code) == code
        assert looks_like_code(code)
        assert not set(code) & set("ILOU")


@settings(max_examples=300, database=None)
@given(data_strings, st.integers(0, 8), st.sampled_from(CHECK_SYMBOLS))
def test_any_single_substitution_is_refused(data, position, replacement):
    code = compact(format_code(data))
    if code[position] == replacement or (position < 8 and replacement not in ALPHABET):
        return  # not a substitution (or not a data character at all, which the shape check refuses)
    typo = code[:position] + replacement + code[position + 1 :]
    assert normalize_code(typo) is None


@settings(max_examples=300, database=None)
@given(data_strings, st.integers(0, 7))
def test_any_adjacent_transposition_is_refused(data, position):
    code = compact(format_code(data))
    if code[position] == code[position + 1]:
        return  # swapping equal characters changes nothing
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert normalize_code(swapped) is None


def test_substitution_and_transposition_proof_is_exhaustive_per_position():
    """The arithmetic behind it, for every position and every pair of symbols: a substitution changes the
    value by (b − a)·32^k and a swap by (a − b)·31·32^k, neither ever a multiple of 37."""
    for k in range(8):
        for a in range(32):
            for b in range(32):
                if a != b:
                    assert ((b - a) * pow(32, k, 37)) % 37 != 0
                    assert ((a - b) * 31 * pow(32, k, 37)) % 37 != 0


@settings(max_examples=200, database=None)
@given(data_strings)
def test_typing_variants_normalize_to_the_same_code(data):
    code = format_code(data)
    canonical = normalize_code(code)
    assert canonical == code
    assert normalize_code(code.lower()) == code
    assert normalize_code(compact(code)) == code
    assert normalize_code(" " + " ".join(compact(code)) + " ") == code
    confused = compact(code).replace("0", "O").replace("1", "I")
    assert normalize_code(confused) == code
    assert normalize_code(compact(code).replace("1", "l")) == code


@pytest.mark.parametrize(
    "text",
    ["", "   ", "ABCD", "ABCD-EFGH", "ABCD-EFGH-JK", "ABCU-EFGH-J", "ABCD!EFGH-J", None, 12345, "x" * 500],
)
def test_wrong_shapes_are_refused(text):
    assert normalize_code(text) is None
    assert not looks_like_code(text)


def test_check_symbols_outside_the_alphabet_are_read_when_typed():
    data = next(d for d in ("".join(p) for p in _candidates()) if check_symbol(d) not in ALPHABET)
    code = format_code(data)
    assert code[-1] in "*~$=U"
    assert normalize_code(code) == code
    assert normalize_code(code.lower()) == code  # a lower-case u is the U check symbol


def _candidates():
    for a in ALPHABET:
        for b in ALPHABET:
            yield ("7KQ2M9" + a + b,)


@pytest.mark.parametrize(
    "text", ["christina", "CHRISTINA", "alexandra", "074001234", "07400 123 456", "smith"]
)
def test_names_and_phone_digits_never_look_like_codes(text):
    assert not looks_like_code(text)


def test_a_code_typed_in_the_search_box_looks_like_one():
    code = new_code()
    assert looks_like_code(code.lower())
    assert looks_like_code(compact(code))
    assert not looks_like_code(code[:-1] + next(c for c in string.digits + "ABC" if c != code[-1]))
