"""Who may reach the blacklist routes: endpoint -> least role."""

ACCESS = {
    "blacklist.restrict": "manager",
    "blacklist.lift": "manager",
    "blacklist.index": "manager",
    "blacklist.review": "manager",
}
