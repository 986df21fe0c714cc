"""Blacklist forms: restrict, lift, review."""

from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from webapp.blacklist.services import REASON_MAX
from webapp.forms import BoundedDateField, Form


class BlacklistForm(Form):
    """Blacklist (block) or flag (warn) a customer, with a reason staff only see."""

    reason = TextAreaField(
        "Reason (staff only)",
        validators=[DataRequired("Say why, for whoever reviews this later."), Length(max=REASON_MAX)],
    )
    level = RadioField(
        "Restriction",
        choices=[
            SelectChoice("block", "Block: cannot be booked without a manager's override"),
            SelectChoice("warn", "Warn: staff see an alert whenever the customer is booked or picked"),
        ],
        default="block",
    )
    expires_on = BoundedDateField("Lapses on (optional)", validators=[Optional()])


class LiftForm(Form):
    """Remove a restriction; the reason goes into the audit history."""

    reason = TextAreaField(
        "Why lift it?",
        validators=[DataRequired("Say why the restriction is lifted."), Length(max=REASON_MAX)],
    )


class ReviewForm(Form):
    """Mark a restriction as reviewed and kept."""

    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=REASON_MAX)])
