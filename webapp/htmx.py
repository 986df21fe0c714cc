"""Answer htmx with a block of the page template and everyone else with the whole page."""

from flask import render_template, request
from jinja2_fragments.flask import render_block

VARY = {"Vary": "HX-Request, HX-Boosted, HX-History-Restore-Request"}


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page: not a boosted navigation, and not the
    Back button restoring a pushed URL (htmx 2 sends HX-Request then too, and needs the whole page)."""
    h = request.headers
    return (
        h.get("HX-Request") == "true"
        and h.get("HX-Boosted") != "true"
        and h.get("HX-History-Restore-Request") != "true"
    )


def page_or_block(template: str, block: str, status: int = 200, headers: dict | None = None, **ctx):
    """Render `block` of `template` for htmx, the whole page otherwise."""
    html = render_block(template, block, **ctx) if wants_fragment() else render_template(template, **ctx)
    return html, status, {**VARY, **(headers or {})}
