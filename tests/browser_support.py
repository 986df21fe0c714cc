"""Helpers for browser tests: sign in through the form, axe checks, htmx presence."""


def sign_in_browser(page, email: str, password: str) -> None:
    """Sign in through the real form."""
    page.goto(page.base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/customers**")


def assert_accessible(page, context: str = "") -> None:
    """axe finds no serious or critical violation on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{context or page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad
    )


def htmx_loaded(page) -> bool:
    """True when htmx ran on the page (so the SRI check passed)."""
    return page.evaluate("typeof window.htmx !== 'undefined' && !!window.htmx.version")


def wait_htmx_idle(page) -> None:
    """Wait until htmx has no request in flight and has settled its last swap (new content's hx-*
    attributes are wired during the settle step, about 20 ms after the swap)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )
