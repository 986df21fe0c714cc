"""The one `fold`: accent- and case-free forms of names that every feature compares and searches with.

Pure string functions (the standard library only), so models, search, the rules and duplicates all
read a name the same way: "Zoë O'Brien" -> "zoe obrien", "Đorđe" -> "dorde", "Анна" -> "анна".
"""

import re
import unicodedata

# C0 controls and DEL except tab, line feed and carriage return: PostgreSQL cannot store a NUL in text
# (psycopg raises DataError) and SQLite would store it silently; none of them belongs in a name or a note.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Letters NFKD does not take apart.
FOLD_EXTRA = str.maketrans(
    {"ø": "o", "đ": "d", "ł": "l", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "ı": "i", "ħ": "h"}
)
APOSTROPHES = "'’`´"
# Sorts after every character a folded key holds: [prefix, prefix + TOP) is a prefix range, and TOP
# alone lies above every key (`fold` keeps letters, digits and spaces only).
TOP = "\U0010ffff"


def has_control_characters(value: object) -> bool:
    """True for a string holding a NUL or another control character no text column should hold."""
    return isinstance(value, str) and CONTROL_CHARACTERS.search(value) is not None


def strip_accents(text: str) -> str:
    """Lower-case (casefold) without accents: "Zoë" -> "zoe", "Straße" -> "strasse"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(FOLD_EXTRA)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str | None) -> str:
    """A name key: no accents, lower case, apostrophes dropped, other punctuation a space, spaces single."""
    if not text:
        return ""
    out = []
    for ch in strip_accents(text):
        if ch.isalnum():
            out.append(ch)
        elif ch not in APOSTROPHES:
            out.append(" ")
    return " ".join("".join(out).split())


def fold_compact(text: str | None) -> str:
    """`fold` without any spaces: "O'Brien-Ng" and "OBrien Ng" give the same key, "obrienng"."""
    return fold(text).replace(" ", "")


def fold_fragment(text: str) -> str:
    """A contains-fragment: no accents, lower case, apostrophes dropped, other punctuation kept."""
    return "".join(ch for ch in strip_accents(text) if ch not in APOSTROPHES and not ch.isspace())


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """A count and its noun in agreement: "1 possible duplicate", "2 possible duplicates", "3 people"."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


# --- spreadsheet-safe CSV cells (webapp/exports/cells.py says why) ----------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def needs_quote(value: str) -> bool:
    """A spreadsheet would run it: it starts with a formula start, or with quotes and then one (so
    that taking one quote off a neutralized cell always gives back exactly what was typed)."""
    return value.lstrip("'")[:1] in FORMULA_STARTS and value.lstrip("'") != ""


def safe_text(value: str | None) -> str:
    """`value` as a cell no spreadsheet runs: "" for None, a single quote before a formula start."""
    if not value:
        return ""
    return "'" + value if needs_quote(value) else value


def unquoted(cell: str) -> str:
    """The text a neutralized cell stood for (what an import reading our own export takes back)."""
    return cell[1:] if cell[:1] == "'" and needs_quote(cell[1:]) else cell
