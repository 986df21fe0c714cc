"""Who may reach the export and data-rights routes: endpoint -> least role."""

ACCESS = {
    "exports.customers_csv": "manager",
    "exports.customer_json": "manager",
    "exports.retention": "owner",
}
