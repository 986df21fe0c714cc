"""QR codes of card links, drawn on the server as inline SVG (segno): no script, no image request."""

import segno
from markupsafe import Markup, escape


def qr_svg(url: str, *, label: str, scale: int = 4) -> Markup:
    """An accessible inline SVG of the QR code that encodes `url` (role="img", `label` read aloud).

    Error correction level M survives a scuffed printed card; the SVG has a viewBox and no fixed size,
    so CSS sizes it (small on the profile, large on the printed card)."""
    svg = segno.make(url, error="m").svg_inline(
        scale=scale, svgclass="qr", lineclass=None, omitsize=True, dark="#000", light="#fff"
    )
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" focusable="false" ', 1))
