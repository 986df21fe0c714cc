"""Who may reach the sales, points, store-credit and loyalty-rate screens: endpoint -> least role."""

ACCESS = {
    "money.new_sale": "receptionist",
    "money.purchases": "receptionist",
    "money.redeem": "receptionist",
    "money.ledger_page": "receptionist",
    "money.payment": "receptionist",
    "money.reverse": "manager",
    "money.adjust_points": "manager",
    "money.adjust_ledger": "manager",
    "money.loyalty": "owner",
}
