"""Booking screens: today's list with complete / cancel / no-show, and the new-booking form."""

from datetime import date, timedelta

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from webapp.bookings import bp, queries, rules, services
from webapp.bookings.forms import BookingForm
from webapp.bookings.profile import STATUS_FILTERS, history_page
from webapp.bookings.times import local_today, to_utc
from webapp.edge import customer_or_404, customer_url, day_arg, owned_or_404, safe_next, show_errors
from webapp.errors import Invalid
from webapp.extensions import db
from webapp.htmx import VARY, page_or_block, wants_fragment
from webapp.models import Booking, utcnow

# A service's field name -> the form field that shows its message.
FORM_FIELDS = {
    "customer": "customer_id",
    "override_reason": "customer_id",
    "location": "location_id",
    "starts_at": "start_time",
    "ends_at": "end_time",
}
ACTIONS = {"complete": "Completed", "cancel": "Cancelled", "no-show": "Marked as a no-show"}


# Booking pages (and the profile's bookings part) link to customers' profiles.
bp.add_app_template_global(customer_url)


def parse_day(raw: str | None) -> date | None:
    """A YYYY-MM-DD query argument between 1900 and 2200 (the day page steps a day either way), or None."""
    return day_arg(raw)


@bp.get("/bookings")
def today():
    """The day's bookings at the signed-in user's current location (today unless `day` is given)."""
    business = g.business
    day = parse_day(request.args.get("day")) or local_today(business.timezone)
    location = current_user.current_location
    rows = queries.day_bookings(business, location, day) if location else []
    block = "stats" if request.args.get("part") == "stats" else "list"  # stats: refreshed after a row action
    return page_or_block(
        "bookings/today.html",
        block,
        day=day,
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        today=local_today(business.timezone),
        location=location,
        rows=rows,
        totals=queries.day_totals(rows),
        now=utcnow(),  # a booking still ahead offers only "Cancel…" (rules.has_started)
    )


@bp.post("/bookings/<uuid:booking_id>/<any(complete, cancel, 'no-show'):action>")
def act(booking_id, action: str):
    """Complete, cancel (by the customer or the business) or mark a no-show; htmx gets the row back."""
    booking = owned_or_404(Booking, booking_id)
    error = None
    try:
        if action == "complete":
            services.complete_booking(booking, current_user)
        elif action == "cancel":
            services.cancel_booking(booking, current_user, request.form.get("by", ""))
        else:
            services.mark_no_show(booking, current_user)
    except Invalid as e:
        db.session.rollback()
        error = e.message
    else:
        db.session.commit()
    customer = queries.customer_for(booking)
    if wants_fragment():
        html = render_template(
            "bookings/_row.html", booking=booking, customer=customer, error=error, now=utcnow()
        )
        headers = VARY if error else {**VARY, "HX-Trigger": "bookings-changed"}  # the day's totals refresh
        return html, 422 if error else 200, headers
    if error:
        flash(error, "error")
    else:
        flash(f"{ACTIONS[action]}: {customer.display_name}, {booking.service}.", "success")
    back = safe_next(request.form.get("next")) or url_for("bookings.today")
    return redirect(back, 303)


@bp.route("/bookings/new", methods=["GET", "POST"])
def new():
    """Book a customer (`?customer=<id>` fills in who)."""
    business = g.business
    form = BookingForm()
    locations = queries.active_locations(business)
    form.location_id.choices = [SelectChoice(loc.id, loc.name) for loc in locations]
    args = request.args
    if request.method == "GET":  # `customer_id` / `override_id`: the picker's fields, sent on customer-picked
        form.fill_defaults(
            business,
            current_user,
            args.get("customer") or args.get("customer_id"),
            args.get("override") or args.get("override_id"),
        )
    customer = queries.customer_or_none(business, form.customer_id.data)
    if form.validate_on_submit():
        try:
            booking = book_from(form, business)
        except Invalid as e:
            db.session.rollback()
            show_errors(form, e, aliases=FORM_FIELDS)
        else:
            db.session.commit()
            booked = queries.customer_for(booking)
            if booked.id != customer.id:  # merged away meanwhile: the service booked the survivor
                flash(
                    f"{customer.display_name} was merged into {booked.display_name}; the booking is theirs."
                )
            flash(f"Booked {booked.display_name}: {booking.service}.", "success")
            back = safe_next(request.args.get("next")) or url_for(
                "bookings.today", day=form.day.data.isoformat()
            )
            return redirect(back, 303)
    return page_or_block(
        "bookings/new.html",
        "customer_notes" if args.get("part") == "customer" else "form",
        status=422 if form.errors else 200,
        form=form,
        customer=customer,
        can_override=current_user.has_role("manager"),
        picker_override=rules.picker_override_reason(customer, current_user, form.override_id.data)
        if customer is not None and customer.restriction == "block"
        else "",
    )


def book_from(form: BookingForm, business) -> Booking:
    """Turn the form's local date and times into UTC and call the service."""
    tz = business.timezone
    starts_at = to_utc(form.day.data, form.start_time.data, tz, "start_time")
    ends_at = to_utc(form.day.data, form.end_time.data, tz, "end_time")
    return services.create_booking(
        business,
        current_user,
        customer_id=form.customer_id.data,
        location_id=form.location_id.data,
        starts_at=starts_at,
        ends_at=ends_at,
        service=form.service.data,
        staff_name=form.staff_name.data or "",
        price=form.price_minor(),
        notes=form.notes.data or "",
        override_event_id=form.override_id.data or None,
        allow_overlap=form.allow_overlap.data,
    )


@bp.get("/customers/<uuid:customer_id>/bookings")
def history(customer_id):
    """The profile's booking history on its own: the fragment htmx swaps, or a page without JavaScript."""
    customer = customer_or_404(customer_id)
    page = history_page(customer, request.args)
    return page_or_block(
        "bookings/history.html", "history", customer=customer, history=page, filters=STATUS_FILTERS
    )
