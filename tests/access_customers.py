"""Who may reach the customer record routes and the tag / preference settings."""

ACCESS = {
    "customers.new": "receptionist",
    "customers.edit": "receptionist",
    "customers.validate_field": "receptionist",
    "customers.profile": "receptionist",
    "customers.delete": "manager",
    "settings.tags": "owner",
    "settings.update_tag_view": "owner",
    "settings.delete_tag_view": "owner",
    "settings.preferences": "owner",
    "settings.rename_preference_view": "owner",
    "settings.toggle_preference": "owner",
}
