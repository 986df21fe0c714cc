"""The retention setting's form (shape only; services check the rule)."""

from wtforms import BooleanField
from wtforms.validators import NumberRange, Optional

from webapp.exports.retention import MAX_YEARS, MIN_YEARS
from webapp.forms import BoundedIntegerField, Form

YEARS_MESSAGE = f"Choose a number of years from {MIN_YEARS} to {MAX_YEARS}."


class RetentionForm(Form):
    """Turn the rule on with a number of years, or off."""

    enabled = BooleanField("Anonymize inactive customers")
    years = BoundedIntegerField(
        "Years without a visit or a booking",
        validators=[Optional(), NumberRange(MIN_YEARS, MAX_YEARS, YEARS_MESSAGE)],
    )

    def validate(self, extra_validators=None) -> bool:
        """The fields' checks, then: turning the rule on needs the number of years."""
        valid = super().validate(extra_validators)
        if valid and self.enabled.data and self.years.data is None:
            self.years.errors = [YEARS_MESSAGE]
            valid = False
        return valid
