"""Booking forms (shape only; the services check the rules)."""

from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from webapp.bookings.times import zone
from webapp.edge import int64
from webapp.forms import BoundedDateField, Form, MoneyField


def two_places(form, field) -> None:
    """Money has at most two decimal places."""
    if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError("Use at most two decimal places.")


class BookingForm(Form):
    """A new booking: who, where, what, when (on the business's clock) and how much."""

    customer_id = HiddenField("Customer", validators=[DataRequired("Choose a customer.")])
    location_id = SelectField("Location", coerce=int64, validate_choice=False)
    service = StringField(
        "Service", validators=[DataRequired("Say what the booking is for."), Length(max=200)]
    )
    staff_name = StringField("Staff", validators=[Optional(), Length(max=120)])
    day = BoundedDateField("Date", validators=[InputRequired("Choose a date.")])
    start_time = TimeField("Start", validators=[InputRequired("Enter a start time.")])
    end_time = TimeField("End", validators=[InputRequired("Enter an end time.")])
    price = MoneyField(
        "Price",
        places=2,
        validators=[InputRequired("Enter a price (0 if free)."), two_places],
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=1000)])
    override_id = HiddenField("Picker override")  # the audit event of a manager's override in the picker
    allow_overlap = BooleanField("Book anyway, even though it overlaps")

    def fill_defaults(self, business, user, customer_id: str | None, override_id: str | None = None) -> None:
        """A fresh form: the customer asked for, the user's location, the next quarter hour, one hour."""
        now = datetime.now(zone(business.timezone))
        start = (now + timedelta(minutes=15 - now.minute % 15)).replace(second=0, microsecond=0)
        self.customer_id.data = customer_id or ""
        self.override_id.data = override_id or ""
        self.location_id.data = user.current_location_id
        self.day.data = start.date()
        self.start_time.data = start.time()
        self.end_time.data = (start + timedelta(hours=1)).time() if start.hour < 23 else time(23, 59)
        self.price.data = Decimal("0.00")

    def price_minor(self) -> int:
        """The price in minor units."""
        return int((self.price.data * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
