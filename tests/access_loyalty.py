"""Who may reach the stamp-card screens: endpoint -> least role."""

ACCESS = {
    "loyalty.enrol": "receptionist",
    "loyalty.stamp": "receptionist",
    "loyalty.redeem": "receptionist",
    "loyalty.send_link": "receptionist",
    "loyalty.print_card": "receptionist",
    "loyalty.scan": "receptionist",
    "loyalty.programs_index": "owner",
    "loyalty.program_edit": "owner",
    "loyalty.outbox": "owner",
    "loyalty.outbox_message": "owner",
}
