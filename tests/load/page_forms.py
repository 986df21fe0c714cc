"""What a browser would submit from a form of a page (for the simulated staff of locustfile.py)."""

from html.parser import HTMLParser


class FormFields(HTMLParser):
    """The fields a browser would submit from one <form> (picked by a predicate on its attributes)."""

    def __init__(self, wanted):
        super().__init__(convert_charrefs=True)
        self.wanted, self.inside, self.fields = wanted, False, []
        self.textarea = self.select = None
        self.first_option = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = self.wanted(a)
        elif not self.inside or "disabled" in a:  # a bare attribute parses as None
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append([a["name"], a.get("value", "on" if kind == "checkbox" else "")])
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]
            self.fields.append(self.textarea)
        elif tag == "select" and a.get("name"):
            self.select, self.first_option = a["name"], None
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = a.get("value", "")
            if "selected" in a:
                self.fields.append([self.select, a.get("value", "")])
                self.select = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.select:
            if self.first_option is not None:  # nothing selected: the browser sends the first option
                self.fields.append([self.select, self.first_option])
            self.select = None
        elif tag == "form":
            self.inside = False


def form_fields(html: str, wanted) -> list[tuple[str, str]]:
    """Parse `html` and return the chosen form's fields as (name, value) pairs, in page order (a name
    may repeat: each ticked tag)."""
    parser = FormFields(wanted)
    parser.feed(html)
    return [(name, value) for name, value in parser.fields]


def with_values(fields: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    """`fields` with each named field set to one value (added when the form had none)."""
    return [(n, v) for n, v in fields if n not in values] + list(values.items())
