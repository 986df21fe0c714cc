"""Import forms: the file upload, and the mapping step (a field per column, the duplicate policy)."""

from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectChoice, SelectField, ValidationError

from webapp.forms import Form

CHOOSE_FILE = "Choose the CSV file to import."
UNKNOWN_FIELD = "Choose a field from the list, or “Ignore this column”."
UNKNOWN_POLICY = "Choose what happens to rows that match a customer you already have."


class UploadForm(Form):
    """One CSV file."""

    file = FileField("CSV file", validators=[FileRequired(CHOOSE_FILE)])

    def validate_file(self, field) -> None:
        """A value that is not a file (a plain form field named `file`) is the same "choose a file"."""
        if not hasattr(field.data, "read"):
            raise ValidationError(CHOOSE_FILE)


class ActionForm(Form):
    """A button with only the CSRF token (undo)."""


class FieldSelect(SelectField):
    """A column's target field: an unknown key is a plain-language message, not "Not a valid choice"."""

    def pre_validate(self, form) -> None:
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(UNKNOWN_FIELD)


class PolicyRadio(RadioField):
    """The duplicate policy, with the same plain message for a value that is not one."""

    def pre_validate(self, form) -> None:
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(UNKNOWN_POLICY)


def choices_of(labels: dict[str, str]) -> list[SelectChoice]:
    """A select's or radio's choices from {value: label}."""
    return [SelectChoice(value, label) for value, label in labels.items()]


class MappingForm(Form):
    """The mapping step; `for_job` adds one select per column of the file (`col_0`, `col_1`, …)."""

    columns: list[str] = []

    @classmethod
    def for_job(cls, headers: list[str], fields: dict[str, str], policies: dict[str, str], **kwargs):
        """A form class for this file's headers, instantiated (reads the request on POST)."""
        attrs = {
            "columns": [f"col_{i}" for i in range(len(headers))],
            "policy": PolicyRadio("Customers you already have", choices=choices_of(policies), default="skip"),
        }
        for i, header in enumerate(headers):
            label = str(header).strip() or f"Column {i + 1} (no heading)"
            attrs[f"col_{i}"] = FieldSelect(label, choices=choices_of(fields), default="ignore")
        form_class = type("JobMappingForm", (cls,), attrs)
        return form_class(**kwargs)

    def column_fields(self):
        """(index, select field) for each column, in the file's order."""
        return [(i, self[name]) for i, name in enumerate(self.columns)]

    def mapping(self) -> dict[int, str]:
        """Column index -> field key, as chosen."""
        return {i: field.data for i, field in self.column_fields()}
