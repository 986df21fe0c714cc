"""Who may reach the CSV import screens: endpoint -> least role."""

ACCESS = {
    "imports.upload": "manager",
    "imports.job": "manager",
    "imports.mapping": "manager",
    "imports.undo": "manager",
    "imports.rejected_csv": "manager",
}
