"""Who may reach the JSON API's money and stamp-card routes: endpoint -> least role (read and desk keys
both act as a receptionist; a read key is held to safe methods by the key check)."""

ACCESS = {
    "api.record_sale": "receptionist",
    "api.list_sales": "receptionist",
    "api.customer_ledger": "receptionist",
    "api.redeem_points": "receptionist",
    "api.list_cards": "receptionist",
    "api.enrol_card": "receptionist",
    "api.stamp_card": "receptionist",
    "api.redeem_card": "receptionist",
}
