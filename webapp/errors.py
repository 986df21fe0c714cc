"""Domain errors: what a service raises when a rule is broken, typed so every caller reads the same fields.

Services raise these; the screens turn them into field messages (`webapp.edge.show_errors`), the JSON
API into problem+json. No caller reads a dict of loosely named extras.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every rule a service enforces. `field` is the form field it concerns (None: the whole form)."""

    field: str | None = None
    message: str = ""
    status: int = 422  # what an API answers for it

    def __str__(self) -> str:
        return self.message


class Invalid(DomainError):
    """One or more values break a rule: `problems` maps each field (None: the whole form) to its message.

    `Invalid("reason", "Say why.")` for one field; `Invalid({"email": "…", "phone": "…"})` for several.
    `field` and `message` are the first problem's, for callers that show one."""

    def __init__(self, field_or_problems: str | None | dict[str | None, str], message: str | None = None):
        if isinstance(field_or_problems, dict):
            problems = dict(field_or_problems)
        else:
            problems = {field_or_problems: message or ""}
        if not problems:
            raise ValueError("Invalid needs at least one problem")
        self.problems: dict[str | None, str] = problems
        self.field, self.message = next(iter(problems.items()))
        super().__init__(self.message)


class ContactTaken(Invalid):
    """An email or phone belongs to another customer of the business: `owners` maps the field to them.

    Carries the other problems of the same check too, so a form shows everything at once."""

    status = 409

    def __init__(self, problems: dict[str | None, str], owners: dict[str, Any]):
        super().__init__(problems)
        self.owners: dict[str, Any] = dict(owners)

    @property
    def owner(self):
        """The customer who has the first taken contact."""
        return self.owners.get(self.field) or next(iter(self.owners.values()))


class PossibleDuplicate(DomainError):
    """A new customer looks like existing ones (`similar`); the caller may confirm and create anyway."""

    status = 409

    def __init__(
        self, similar: list, message: str = "This looks like a customer who is already in the book."
    ):
        self.similar = list(similar)
        self.message = message
        super().__init__(message)


class Conflict(DomainError):
    """The record changed since it was read (its version moved on): `current` is the record as it is now."""

    status = 409

    def __init__(self, current: Any = None, message: str = "Someone else changed this in the meantime."):
        self.current = current
        self.message = message
        super().__init__(message)


class NotFound(DomainError):
    """The thing asked for does not exist in this business (another business's id included)."""

    status = 404

    def __init__(self, message: str = "That record does not exist, or belongs to another business."):
        self.message = message
        super().__init__(message)
