"""Helpers test modules import (the fixtures live in conftest.py)."""

import re
import time

from flask.testing import FlaskClient

PASSWORD = "correct horse battery"


def sign_in(client: FlaskClient, user) -> FlaskClient:
    """Put `user` in the client's session as the sign-in form would (without the password cost)."""
    with client.session_transaction() as s:
        now = int(time.time())
        s.update({"_user_id": user.get_id(), "_fresh": True, "signed_in_at": now, "seen_at": now})
        s.permanent = True
    return client


def csrf_token_from(html: bytes | str) -> str:
    """The CSRF token in a rendered form."""
    if isinstance(html, bytes):
        html = html.decode()
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


HX = {"HX-Request": "true"}
HX_BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}


def run_state_machine(machine, examples: int, steps: int = 12) -> None:
    """Run a hypothesis state machine inside the test's app context and fixtures: `examples` runs of
    up to `steps` steps, no deadline (a database round trip varies), nothing saved to .hypothesis/."""
    from hypothesis import HealthCheck, settings

    machine.TestCase.settings = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    machine.TestCase().runTest()
