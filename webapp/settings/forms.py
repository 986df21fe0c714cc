"""Settings forms (shape only; services check the rules)."""

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length

from webapp.forms import Form
from webapp.models.staff import ROLE_LABELS
from webapp.settings.named_lists import COLORS, PREFERENCE_NAME_MAX, TAG_NAME_MAX


class BusinessForm(Form):
    """The business's details."""

    name = StringField(
        "Business name", validators=[DataRequired("Give the business a name."), Length(max=200)]
    )
    timezone = StringField("Timezone", validators=[DataRequired("Choose a timezone."), Length(max=64)])
    phone_region = StringField(
        "Phone region", validators=[DataRequired("Enter a country code."), Length(2, 2)]
    )
    currency = StringField("Currency", validators=[DataRequired("Enter a currency code."), Length(3, 3)])


class LocationForm(Form):
    """Add or rename a location."""

    name = StringField(
        "Location name", validators=[DataRequired("Give the location a name."), Length(max=120)]
    )


class StaffForm(Form):
    """Add a staff member."""

    name = StringField("Name", validators=[DataRequired("Enter their name."), Length(max=120)])
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter their email."),
            Email("Enter a valid email address."),
            Length(max=255),
        ],
    )
    role = SelectField(
        "Role", choices=[SelectChoice(v, label) for v, label in ROLE_LABELS.items()], default="receptionist"
    )
    password = PasswordField(
        "First password", validators=[DataRequired("Give them a first password."), Length(max=256)]
    )


class StaffChangeForm(Form):
    """Change a staff member's role or active flag."""

    role = SelectField("Role", choices=[SelectChoice(v, label) for v, label in ROLE_LABELS.items()])
    active = BooleanField("Active")


class TagForm(Form):
    """A tag's name and colour."""

    name = StringField(
        "Tag name", validators=[DataRequired("Give the tag a name."), Length(max=TAG_NAME_MAX)]
    )
    color = SelectField("Colour", choices=[SelectChoice(c, c.title()) for c in COLORS], default="grey")


class PreferenceForm(Form):
    """A marketing preference's name."""

    name = StringField(
        "Preference name",
        validators=[DataRequired("Give the preference a name."), Length(max=PREFERENCE_NAME_MAX)],
    )
