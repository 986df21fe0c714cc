"""Who may reach the blacklist routes: endpoint -> least role."""

ACCESS = {
    "blacklist.blacklist": "manager",
    "blacklist.lift": "manager",
    "blacklist.index": "manager",
    "blacklist.review": "manager",
}
