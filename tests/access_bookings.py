"""Who may reach the bookings routes: endpoint -> least role."""

ACCESS = {
    "bookings.today": "receptionist",
    "bookings.new": "receptionist",
    "bookings.act": "receptionist",
    "bookings.history": "receptionist",
    "api.customer_stats": "receptionist",
}
