"""Who may reach the JSON API's routes and the key screen: endpoint -> least role (None = public)."""

ACCESS = {
    "api_docs.openapi_json": None,
    "api_docs.docs": None,
    "api_keys.index": "owner",
    "api_keys.revoke": "owner",
    "api.list_customers": "receptionist",
    "api.create_customer": "receptionist",
    "api.get_customer": "receptionist",
    "api.put_customer": "receptionist",
    "api.patch_customer": "receptionist",
    "api.delete_customer": "receptionist",
    "api.upsert_customer": "receptionist",
    "api.transfer_customer": "manager",
    "api.put_blacklist": "manager",
    "api.delete_blacklist": "manager",
    "api.blacklisted_customers": "manager",
}
