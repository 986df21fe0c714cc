"""The base of every HTML form, and the bounded fields: only form fields are read (a JSON body is
refused, not coerced), and a value no column could hold is refused on its own field.

Flask-WTF reads a JSON body as form data, so a number or an object arrives where a string goes (a
TypeError deep in a validator) and a deeply nested body is a RecursionError while parsing. PostgreSQL
cannot store a NUL. Numbers and dates parse into values past what a column or the calendar holds
(1e400, Infinity, 99999999999999999999, 9999-12-31 23:00 in a timezone ahead of UTC). Every form of
`webapp/*/forms.py` inherits `Form`, so each of these is a message on a field, never a 500.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import has_request_context, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import DateField, DecimalField, HiddenField, IntegerField

from webapp.edge import EARLIEST_DAY, LATEST_DAY, has_control_characters, int64

CONTROL_MESSAGE = "Remove the control character (such as a NUL byte) from this field."
TOO_LONG_MESSAGE = "That is far longer than this field takes."
JSON_MESSAGE = "Send this form from its page in Frontdesk: it takes form fields, not JSON."
# Longer than any text column; a field without a length limit of its own stops here.
MAX_VALUE_LENGTH = 10_000
SUBMIT_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class Form(FlaskForm):
    """Every HTML form's base: form-encoded fields only, and no value a column cannot hold."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            """Flask-WTF's default, except that a JSON body is read as an empty form (and refused)."""
            if (
                formdata is not None
                and not hasattr(formdata, "getlist")  # Flask-WTF's "read the request" marker
                and has_request_context()
                and request.method in SUBMIT_METHODS
                and request.is_json
            ):
                form.json_refused = True
                return ImmutableMultiDict()
            return super().wrap_formdata(form, formdata)

    json_refused = False
    # Fields only read, never stored (a redirect target that `safe_next` checks): a bad value there is
    # ignored the way any unsafe `next` is, not refused.
    not_stored: tuple[str, ...] = ()

    def validate(self, extra_validators=None) -> bool:
        """The fields' own checks, then one pass that refuses what no column holds, on its field."""
        valid = super().validate(extra_validators)
        for field in self:
            problem = None if field.short_name in self.not_stored else unholdable(field.raw_data)
            if problem:
                field.errors = [problem]
                valid = False
        if self.json_refused:
            self.form_errors.append(JSON_MESSAGE)
            valid = False
        return valid


def unholdable(raw_data) -> str | None:
    """Why a field's submitted values cannot be stored, or None."""
    for value in raw_data or ():
        if has_control_characters(value):
            return CONTROL_MESSAGE
        if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
            return TOO_LONG_MESSAGE
    return None


class BoundedIntegerField(IntegerField):
    """A whole number within a 64-bit column's range."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            try:
                int64(self.data)
            except ValueError:
                self.data = None
                raise ValueError("That number is too large.") from None


class HiddenIntegerField(HiddenField):
    """A hidden whole number (a record's version): a value that is not one leaves the field empty."""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0] != "":
            try:
                self.data = int64(valuelist[0])
            except ValueError:
                raise ValueError("This form is out of date. Reload the page and try again.") from None


class MoneyField(DecimalField):
    """An amount below `limit` in either direction, never NaN or Infinity (the column holds minor units
    in a 32-bit integer, and `quantize` of 1e400 raises)."""

    def __init__(self, label=None, validators=None, limit: Decimal = Decimal(10_000_000), **kwargs):
        super().__init__(label, validators, **kwargs)
        self.limit = limit

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and (not self.data.is_finite() or abs(self.data) >= self.limit):
            self.data = None
            raise ValueError(f"Enter an amount below {self.limit:,}.")


class BoundedDateField(DateField):
    """A date between `earliest` and `latest` (by default 1900 to 2200: a year-1 or year-9999 date
    steps past the calendar's ends when a day page adds a day or a timezone)."""

    def __init__(
        self, label=None, validators=None, earliest: date = EARLIEST_DAY, latest: date = LATEST_DAY, **kwargs
    ):
        super().__init__(label, validators, **kwargs)
        self.earliest, self.latest = earliest, latest

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.earliest <= self.data <= self.latest:
            self.data = None
            raise ValueError(
                f"Give a date between {self.earliest.year} and {self.latest.year}, e.g. 2027-04-23."
            )
