"""What the customer profile shows about bookings: stat tiles, chart, upcoming and history."""


def profile_context(customer, args) -> dict:
    """Context for templates/bookings/_profile.html (filled in by the bookings feature)."""
    return {}
