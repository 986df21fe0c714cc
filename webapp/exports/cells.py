"""Spreadsheet-safe CSV cells: text that a spreadsheet would run as a formula is neutralized.

OWASP's CSV injection advice: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is
read by Excel, LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, `@SUM(...)`, `+cmd|...`),
so such a cell gets a single quote in front, which every spreadsheet shows as text. Applied to every
text cell the book holds, phone numbers included: an E.164 number ("+447400123456") is written as
"'+447400123456" — every digit and the plus stay readable, a spreadsheet keeps it as text instead of
turning it into 447400123456 (or 4.474E+11), and phone parsers (ours in the import included) skip
the quote. Numbers the export computes itself (counts, amounts) are written as numbers, untouched.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str | None) -> str:
    """`value` as a cell no spreadsheet runs: "" for None, a single quote before a formula start."""
    if not value:
        return ""
    if value[0] in FORMULA_STARTS:
        return "'" + value
    return value


def unquoted(cell: str) -> str:
    """The text a neutralized cell stood for (what an import reading our own export takes back)."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_STARTS:
        return cell[1:]
    return cell
