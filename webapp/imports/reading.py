"""Reading an uploaded CSV file: its encoding, its delimiter, its header and its rows, with limits.

`inspect` checks a whole file once (at upload) and says what it is: the encoding (UTF-8 with or
without a byte-order mark, UTF-16 with one, else Windows-1252), the delimiter (`,` `;` or tab, sniffed
from the first lines), the header cells and how many customer rows follow. Every refusal is an
`Invalid` on "file" with a sentence a person can act on. `rows` then streams the same file again
(line number, cells) for the preview, the dry run and the import, without holding it decoded.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from typing import NamedTuple

from webapp.errors import Invalid

DEFAULT_MAX_BYTES = 100 * 1024 * 1024  # the IMPORT_MAX_BYTES setting's default
MAX_COLUMNS = 200
MAX_FIELD_CHARS = 64 * 1024  # one cell
MAX_ROW_CHARS = 256 * 1024  # one row, all its cells together
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
SNIFF_CHARS = 64 * 1024
# Byte signatures of files people upload by mistake instead of a CSV export.
SIGNATURES = (
    (b"PK\x03\x04", "This is a zip file (an Excel .xlsx workbook?). Save it as CSV and upload that."),
    (b"\xd0\xcf\x11\xe0", "This is an old Excel (.xls) or Word file. Save it as CSV and upload that."),
    (b"%PDF", "This is a PDF, not a CSV file."),
    (b"\x89PNG", "This is an image, not a CSV file."),
    (b"\xff\xd8\xff", "This is an image, not a CSV file."),
    (b"GIF8", "This is an image, not a CSV file."),
    (b"\x1f\x8b", "This is a compressed (gzip) file. Unpack it and upload the CSV inside."),
)
BINARY_MESSAGE = "This is not a text file. Upload a CSV file (comma, semicolon or tab separated)."


class FileInfo(NamedTuple):
    """What `inspect` found."""

    encoding: str  # a Python codec name: "utf-8-sig", "utf-8", "utf-16", "cp1252"
    delimiter: str
    headers: list[str]
    total_rows: int  # non-blank rows after the header


def size_text(size: int) -> str:
    """ "12.3 MB", "640 KB", "90 bytes"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


def check_size(size: int, max_bytes: int | None) -> None:
    """Refuse a file over the limit, saying both sizes (and what to do instead)."""
    if max_bytes is not None and size > max_bytes:
        raise Invalid(
            "file",
            f"The file is {size_text(size)}; the limit is {size_text(max_bytes)}. Split it into smaller "
            "files, or ask an administrator to run `flask import-customers` with it.",
        )


def detect_encoding(data: bytes) -> str:
    """The codec the file is written in; raises Invalid for binary or undecodable data."""
    for signature, message in SIGNATURES:
        if data.startswith(signature):
            raise Invalid("file", message)
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode text": tab-separated UTF-16 with a byte-order mark
    elif b"\x00" in data:
        raise Invalid("file", BINARY_MESSAGE)
    else:
        encoding = "utf-8"
    try:
        check_decodes(data, encoding)
        return encoding
    except UnicodeDecodeError as e:
        if encoding != "utf-8":
            raise Invalid(
                "file", f"The file says it is {encoding} but is not (byte {e.start + 1})."
            ) from None
    try:
        check_decodes(data, "cp1252")
    except UnicodeDecodeError as e:
        raise Invalid(
            "file",
            f"The file is neither UTF-8 nor Windows-1252 text (an unreadable byte at position "
            f"{e.start + 1}). Save it again as “CSV UTF-8” and upload that.",
        ) from None
    return "cp1252"


def check_decodes(data: bytes, encoding: str) -> None:
    """Decode the whole file in pieces (never holding it decoded); raises UnicodeDecodeError."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    step = 1024 * 1024
    for start in range(0, len(data), step):
        decoder.decode(data[start : start + step], final=start + step >= len(data))
    decoder.decode(b"", final=True)


def text_stream(data: bytes, encoding: str) -> io.TextIOWrapper:
    """The file as a text stream for the csv module (universal newlines left to csv)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")


def sniff_delimiter(sample: str) -> str:
    """`,` `;` or tab: the one that splits the first lines into the most, and the same number of,
    cells (quoted fields understood); a comma when nothing splits."""
    best, best_score = ",", (0, 0)
    lines = sample
    if len(sample) >= SNIFF_CHARS:  # the last line of a cut sample may be cut: drop it
        lines = sample[: sample.rfind("\n") + 1] or sample
    for delimiter in DELIMITERS:
        try:
            records = [r for r in csv.reader(io.StringIO(lines), delimiter=delimiter) if any(r)][:20]
        except csv.Error:
            continue
        if not records:
            continue
        width = len(records[0])
        same = sum(1 for r in records if len(r) == width)
        score = (width if width > 1 else 0, same)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def reader(data: bytes, encoding: str, delimiter: str):
    """A csv reader over the file, its cells limited to MAX_FIELD_CHARS."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    return csv.reader(text_stream(data, encoding), delimiter=delimiter, strict=False)


def is_blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def records(data: bytes, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record starts, cells) for every record, header included, blank ones
    left out. Raises Invalid on a cell or row over its limit, naming the line."""
    source = reader(data, encoding, delimiter)
    line = 1
    while True:
        try:
            cells = next(source)
        except StopIteration:
            return
        except csv.Error as e:
            at = source.line_num
            if "field larger than field limit" in str(e):
                raise Invalid(
                    "file",
                    f"Line {at} has a cell over {MAX_FIELD_CHARS // 1024} KB. No customer field is that "
                    "long: check the file (an unclosed quote?) and try again.",
                ) from None
            raise Invalid("file", f"Line {at} cannot be read as CSV ({e}).") from None
        if sum(len(c) for c in cells) > MAX_ROW_CHARS:
            raise Invalid(
                "file",
                f"Line {line} is over {MAX_ROW_CHARS // 1024} KB. No customer is that long: check the file "
                "(an unclosed quote?) and try again.",
            )
        if not is_blank(cells):
            yield line, cells
        line = source.line_num + 1


def inspect(data: bytes, max_bytes: int | None = DEFAULT_MAX_BYTES) -> FileInfo:
    """Check a whole file and say what it is; raises Invalid({"file": …}) on anything it cannot import."""
    check_size(len(data), max_bytes)
    if not data.strip():
        raise Invalid("file", "The file is empty. Choose the CSV file your old system exported.")
    encoding = detect_encoding(data)
    sample = text_stream(data, encoding).read(SNIFF_CHARS)
    if "\x00" in sample:
        raise Invalid("file", BINARY_MESSAGE)
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    if controls > max(8, len(sample) // 100):
        raise Invalid("file", BINARY_MESSAGE)
    delimiter = sniff_delimiter(sample)
    rows = records(data, encoding, delimiter)
    try:
        _, headers = next(rows)
    except StopIteration:
        raise Invalid("file", "The file is empty. Choose the CSV file your old system exported.") from None
    if len(headers) > MAX_COLUMNS:
        raise Invalid(
            "file",
            f"The file has {len(headers):,} columns; at most {MAX_COLUMNS} can be imported. Remove the "
            "columns you do not need (or check the file is a customer list) and try again.",
        )
    headers = [h.strip() for h in headers]
    total = sum(1 for _ in rows)
    if total == 0:
        raise Invalid("file", "The file has a header row but no customers under it.")
    return FileInfo(encoding, delimiter, headers, total)


def rows(data: bytes, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every customer row (the header and blank rows left out)."""
    records_ = records(data, encoding, delimiter)
    next(records_, None)
    yield from records_
