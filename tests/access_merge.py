"""Who may reach the duplicates and merge routes: endpoint -> least role."""

ACCESS = {
    "merge.duplicates": "manager",
    "merge.refresh": "manager",
    "merge.dismiss": "manager",
    "merge.merge": "manager",
    "merge.undo_merge": "manager",
}
