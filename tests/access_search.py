"""Who may reach the search, picker and calendar-customers routes: endpoint -> least role."""

ACCESS = {
    "picker.index": "receptionist",
    "picker.choose": "receptionist",
    "picker.override": "manager",
    "picker.walk_in": "receptionist",
    "picker.quick_create": "receptionist",
    "api.calendar_customers": "receptionist",
}
