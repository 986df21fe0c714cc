"""Who may reach the sign-in feature's owner screens: endpoint -> least role."""

ACCESS = {
    "auth.activity": "owner",
    "auth.reset_staff_password": "owner",
}
