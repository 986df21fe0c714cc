"""Sign-in and password forms."""

from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.edge import int64
from webapp.forms import Form


class LoginForm(Form):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=256)])
    next = HiddenField()
    not_stored = ("next",)


class ChangePasswordForm(Form):
    """A staff member sets their own password."""

    current = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new = PasswordField("New password", validators=[DataRequired("Choose a new password."), Length(max=256)])
    confirm = PasswordField(
        "Repeat new password", validators=[EqualTo("new", "The two new passwords do not match.")]
    )


class SwitchLocationForm(Form):
    """The header's location switcher."""

    location_id = SelectField("Location", coerce=int64)
