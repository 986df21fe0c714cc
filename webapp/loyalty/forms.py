"""Loyalty forms (shape only; webapp/loyalty/programs.py and cards.py check the rules)."""

from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from webapp.forms import BoundedIntegerField, Form

NUMBER_MESSAGE = "Enter a whole number."


class ProgramForm(Form):
    """A stamp-card program: its name, the stamps that fill it, the reward, a new card's first stamps."""

    name = StringField("Name", validators=[DataRequired("Give the card a name."), Length(max=80)])
    stamps_required = BoundedIntegerField(
        "Stamps needed", default=10, validators=[InputRequired(NUMBER_MESSAGE)]
    )
    reward = StringField("Reward", validators=[DataRequired("Say what a full card earns."), Length(max=120)])
    welcome_stamps = BoundedIntegerField("Welcome stamps", default=0, validators=[Optional()])
    active = BooleanField("Active", default=True)
    stamp_on_complete = BooleanField("Stamp when a booking is completed")

    def values(self) -> dict:
        """The service's keyword arguments."""
        return {
            "name": self.name.data,
            "stamps_required": self.stamps_required.data,
            "reward": self.reward.data,
            "welcome_stamps": self.welcome_stamps.data or 0,
            "active": self.active.data,
            "stamp_on_complete": self.stamp_on_complete.data,
        }


class EnrolForm(Form):
    """Give the customer a card of one of the active programs (choices set by the view)."""

    program_id = SelectField("Stamp card", coerce=int, validate_choice=False)


class StampForm(Form):
    """Stamp a card: one stamp unless a count is given (the service refuses 0 and more than 100)."""

    count = BoundedIntegerField("Stamps", default=1, validators=[Optional()])


class ActionForm(Form):
    """A one-button action on a card (redeem, send the link): only the CSRF token."""
