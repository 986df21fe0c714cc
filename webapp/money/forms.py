"""Money forms (shape only): amounts and points arrive as text and the services' parsers read them, so
"12.345", "abc" or "-1" get the same messages on every screen and in the API."""

from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from webapp.forms import Form
from webapp.money.common import REASON_MAX
from webapp.money.ledger import REFERENCE_MAX
from webapp.money.sales import DESCRIPTION_MAX, RECEIPT_MAX


class SaleForm(Form):
    """Record a sale: its total, a receipt number unless generated, paid now or on account, a booking."""

    total = StringField("Total", validators=[Length(max=40)])
    receipt_number = StringField("Receipt number", validators=[Optional(), Length(max=RECEIPT_MAX)])
    description = StringField(
        "What was sold (optional)", validators=[Optional(), Length(max=DESCRIPTION_MAX)]
    )
    on_account = BooleanField("On account")
    booking_id = SelectField("Booking", choices=[SelectChoice("", "No booking")], validate_choice=False)


class ReverseForm(Form):
    """Void or refund a sale (a manager), with a reason."""

    kind = RadioField(
        "Void or refund",
        choices=[
            SelectChoice("void", "Void: the sale was a mistake"),
            SelectChoice("refund", "Refund: the money was given back"),
        ],
        default="void",
        validate_choice=False,
    )
    reason = TextAreaField("Reason", validators=[Length(max=REASON_MAX)])


class RedeemForm(Form):
    """Redeem points for a discount, optionally against one of the customer's sales."""

    points = StringField("Points", validators=[Length(max=20)])
    sale_id = SelectField(
        "For sale (optional)", choices=[SelectChoice("", "No particular sale")], validate_choice=False
    )


class PointsAdjustForm(Form):
    """A manager's correction of the points balance."""

    points = StringField("Points", validators=[Length(max=20)])
    reason = TextAreaField("Reason", validators=[Length(max=REASON_MAX)])


class PaymentForm(Form):
    """Money received on the customer's account."""

    amount = StringField("Amount", validators=[Length(max=40)])
    reference = StringField("Reference (optional)", validators=[Optional(), Length(max=REFERENCE_MAX)])


class LedgerAdjustForm(Form):
    """A manager's correction of the store-credit balance."""

    amount = StringField("Amount", validators=[Length(max=40)])
    reason = TextAreaField("Reason", validators=[Length(max=REASON_MAX)])


class LoyaltyForm(Form):
    """The business's loyalty rate: points per whole currency unit spent, and what a point is worth."""

    points_per_unit = StringField("Points per unit", validators=[Length(max=20)])
    point_value = StringField("Point value", validators=[Length(max=40)])
