"""The API key form (shape only; webapp/api/keys.py checks the rules)."""

from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from webapp.api.keys import ACCESS_LABELS
from webapp.forms import Form


class ApiKeyForm(Form):
    """Create a key: what it is for, and what it may do."""

    name = StringField("Name", validators=[DataRequired("Say what will use this key."), Length(max=80)])
    access = SelectField(
        "Access", choices=[SelectChoice(v, label) for v, label in ACCESS_LABELS.items()], default="read"
    )
