"""Spreadsheet-safe CSV cells: text that a spreadsheet would run as a formula is neutralized.

OWASP's CSV injection advice: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is
read by Excel, LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, `@SUM(...)`, `+cmd|...`),
so such a cell gets a single quote in front, which every spreadsheet shows as text. Applied to every
text cell the book holds, phone numbers included: an E.164 number ("+447400123456") is written as
"'+447400123456" — every digit and the plus stay readable, a spreadsheet keeps it as text instead of
turning it into 447400123456 (or 4.474E+11), and phone parsers (ours in the import included) skip
the quote. Numbers the export computes itself (counts, amounts) are written as numbers, untouched.

The pair of functions lives in webapp/text.py, below both features: the CSV import takes the quote
back off (`unquoted`), so an export imported again gives back exactly what was typed.
"""

from webapp.text import FORMULA_STARTS, safe_text, unquoted

__all__ = ["FORMULA_STARTS", "safe_text", "unquoted"]
