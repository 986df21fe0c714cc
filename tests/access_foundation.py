"""Who may reach the foundation's routes: endpoint -> least role (None = public)."""

ACCESS = {
    "static": None,
    "auth.login": None,
    "auth.healthz": None,
    "auth.logout": "receptionist",
    "auth.change_password": "receptionist",
    "auth.switch_location": "receptionist",
    "customers.home": "receptionist",
    "customers.search": "receptionist",
    "settings.index": "owner",
    "settings.locations": "owner",
    "settings.update_location": "owner",
    "settings.toggle_location": "owner",
    "settings.staff": "owner",
    "settings.change_staff": "owner",
}
