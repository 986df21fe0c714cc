"""Customer forms: they check shape (lengths, a real date); the rules live in services."""

from datetime import date

from wtforms import (
    EmailField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.edge import int64
from webapp.forms import BoundedDateField, Form, HiddenIntegerField
from webapp.models.customer import SOURCES

SOURCE_LABELS = {
    "walk-in": "Walk-in",
    "phone": "Phone",
    "online": "Online",
    "import": "Import",
    "referral": "Referral",
    "api": "API",
    "other": "Other",
}
CONSENT_CHOICES = {"": None, "in": True, "out": False}


def too_long(limit: int, what: str) -> Length:
    return Length(max=limit, message=f"Use at most {limit} characters for {what}.")


class IdListField(Field):
    """Checkboxes of ids (tags, locations); any posted id is kept, the service decides if it exists."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, choices=(), **kwargs):
        super().__init__(label, validators, **kwargs)
        self.choices = list(choices)
        self.data = []

    def process_formdata(self, valuelist):
        self.data = []
        for raw in valuelist:
            try:
                self.data.append(int64(raw))
            except ValueError:
                self.data.append(raw)  # kept so the service names it as unknown
                self.process_errors.append("Choose from the list; that value is not one of them.")

    def process_data(self, value):
        self.data = [getattr(v, "id", v) for v in (value or [])]

    def options(self):
        """(value, label, checked, chip colour) for each choice."""
        for value, label, color in self.choices:
            yield value, label, value in (self.data or []), color


class BirthDateField(BoundedDateField):
    """A date input whose error says what is expected."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("Give a real date, e.g. 1985-04-23 (year, month, day).") from None


class CustomerForm(Form):
    """Every field of a customer record."""

    first_name = StringField("First name", validators=[too_long(255, "the first name")])
    last_name = StringField("Last name", validators=[too_long(255, "the last name")])
    email = EmailField("Email", validators=[too_long(255, "the email")])
    phone = TelField("Phone", validators=[too_long(32, "the phone number")])
    date_of_birth = BirthDateField(
        "Date of birth",
        validators=[Optional()],
        format="%Y-%m-%d",
        render_kw={"min": "1900-01-01"},
        earliest=date.min,  # the service says "not before 1900"; the field only refuses year 9999
    )
    company = StringField("Company", validators=[too_long(255, "the company")])
    address = TextAreaField("Address", validators=[too_long(1000, "the address")], render_kw={"rows": 2})
    notes = TextAreaField("Notes", validators=[too_long(1000, "notes")], render_kw={"rows": 4})
    source = SelectField(
        "Source", choices=[SelectChoice(s, SOURCE_LABELS[s]) for s in SOURCES], default="other"
    )
    custom_field_value = StringField("Reference", validators=[too_long(255, "the reference")])
    tag_ids = IdListField("Tags")
    location_ids = IdListField("Locations")
    # A new customer's stamp card (webapp/loyalty): the view fills the choices with the active programs.
    program_id = SelectField(
        "Stamp card",
        coerce=lambda v: int64(v) if v not in ("", None) else None,
        choices=[SelectChoice("", "No card")],
        validate_choice=False,
    )
    dummy_label = StringField("Placeholder label", validators=[too_long(80, "the label")])
    version = HiddenIntegerField()
    form_token = HiddenField(
        validators=[Length(max=64, message="This form is out of date. Reload the page.")]
    )

    def __init__(self, *args, tags=(), locations=(), preferences=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.tag_ids.choices = [(t.id, t.name, t.color) for t in tags]
        self.location_ids.choices = [(loc.id, loc.name, None) for loc in locations]
        self.preferences = list(preferences)

    def consent_fields(self, formdata, current: dict):
        """One radio group per marketing preference: (preference, field)."""
        out = []
        for pref in self.preferences:
            answer = current.get(pref.id)
            choices = [SelectChoice("in", "Opted in"), SelectChoice("out", "Opted out")]
            if answer is None:
                choices.append(SelectChoice("", "Not asked"))
            field = RadioField(pref.name, choices=choices, default="").bind(self, f"consent_{pref.id}")
            field.process(formdata, "" if answer is None else ("in" if answer else "out"))
            out.append((pref, field))
        return out

    def values(self, fields) -> dict:
        """The service's data dict for the given fields."""
        return {f: self[f].data for f in fields}


def consent_answers(consent_fields) -> dict:
    """{preference id: True / False / None} from the radio groups."""
    return {pref.id: CONSENT_CHOICES.get(field.data or "") for pref, field in consent_fields}
