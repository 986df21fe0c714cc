"""Merge forms: a choice per field, and the small action forms (dismiss, undo, refresh)."""

from wtforms import HiddenField, RadioField, SelectChoice

from webapp.forms import Form, HiddenIntegerField
from webapp.merge.snapshots import CHOICE_FIELDS

SIDES = [SelectChoice("target", "Survivor"), SelectChoice("source", "Duplicate")]


class MergeForm(Form):
    """Which side's value the survivor keeps, per field; the versions the manager saw."""

    notes = RadioField(
        "Notes",
        choices=[
            SelectChoice("join", "Join both"),
            SelectChoice("target", "Survivor's"),
            SelectChoice("source", "Duplicate's"),
        ],
        default="join",
    )
    source_version = HiddenIntegerField()
    target_version = HiddenIntegerField()

    def choices(self) -> dict:
        """field -> "source" | "target" (or the notes choice)."""
        return {name: self[name].data for name, _ in CHOICE_FIELDS} | {"notes": self.notes.data}

    def versions(self) -> dict:
        """The record versions shown when the screen was opened."""
        return {"source": self.source_version.data or None, "target": self.target_version.data or None}


for _name, _label in CHOICE_FIELDS:
    setattr(MergeForm, _name, RadioField(_label, choices=SIDES, default="target"))


class PairForm(Form):
    """Two customers (for "Not a duplicate")."""

    a = HiddenField()
    b = HiddenField()


class ActionForm(Form):
    """A button with only the CSRF token (undo, refresh)."""
