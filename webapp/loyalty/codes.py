"""Card codes: eight Crockford base-32 characters and a check character, e.g. "7KQ2-M9XR-4".

Crockford's alphabet leaves out I, L, O and U, so a code read aloud or copied from a card has no
look-alikes; a reader who types O for 0 or I/L for 1 is forgiven. The check character is Crockford's
mod-37 check symbol of the eight characters' value. 37 is prime and larger than any digit difference,
so a single wrong character changes the value by (d' − d)·32^k, never a multiple of 37, and two
swapped neighbours change it by (a − b)·31·32^k, never one either: both are always caught (and so is
a swap of the last character with the check character). A mistyped code is therefore refused, never
matched to another customer's card.

Codes are issued with a check character from the 32 letters and digits only (the mod-37 symbols
`*~$=U` are accepted when typed but never issued), with at least one letter and one digit from 2-9,
so a code never looks like a name or a run of phone digits to the search box (`looks_like_code`).
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = ALPHABET + "*~$=U"
DATA_LENGTH = 8
# Crockford's decoding rules: letters that look like digits are read as those digits.
CONFUSIONS = str.maketrans({"O": "0", "I": "1", "L": "1"})
SEPARATORS = str.maketrans("", "", " -\t\n\r\u2010\u2011\u2012\u2013\u2014")
_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}


def check_symbol(data: str) -> str:
    """The mod-37 check symbol of a string of Crockford digits (canonical, no separators)."""
    value = 0
    for symbol in data:
        value = value * 32 + _VALUES[symbol]
    return CHECK_SYMBOLS[value % 37]


def format_code(data: str) -> str:
    """The canonical, printed form of eight data characters: "XXXX-XXXX-C"."""
    return f"{data[:4]}-{data[4:]}-{check_symbol(data)}"


def _issuable(data: str) -> bool:
    """A letter, a digit 2-9 and an alphanumeric check character: nothing a name or phone could be."""
    return (
        any(c.isalpha() for c in data)
        and any(c in "23456789" for c in data)
        and check_symbol(data) in ALPHABET
    )


def new_code() -> str:
    """A fresh random code in its canonical form (uniqueness is the caller's: the business's index)."""
    while True:
        data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_LENGTH))
        if _issuable(data):
            return format_code(data)


def _compact(text: str) -> str:
    """Upper case, no spaces or dashes, Crockford's confusions read as digits."""
    return text.upper().translate(SEPARATORS).translate(CONFUSIONS)


def normalize_code(text: str | None) -> str | None:
    """The canonical form of a typed or scanned code, or None when its shape or check character is wrong.

    Accepts lower case, spaces, dashes and O/I/L for 0/1."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    compact = _compact(text)
    if len(compact) != DATA_LENGTH + 1:
        return None
    data, check = compact[:DATA_LENGTH], compact[DATA_LENGTH]
    if any(c not in _VALUES for c in data) or check not in CHECK_SYMBOLS:
        return None
    if check_symbol(data) != check:
        return None
    return format_code(data)


def looks_like_code(text: str | None) -> bool:
    """Whether the text is a card code (valid check character included) rather than a name or a number.

    Cheap and pure: the search runs its card lookup only when this is true. A typed code has a real
    digit in it (every issued code has one from 2-9) and a letter, so names and phone digits never
    qualify."""
    if not isinstance(text, str) or not any(c.isdigit() for c in text):
        return False
    code = normalize_code(text)
    return code is not None and any(c.isalpha() for c in code[:-1])
