"""The route registry: each API operation declared once (method, path, models, access, statuses), used both
to validate its input and to write the OpenAPI document (webapp/api/openapi.py)."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, get_args, get_origin

from flask import Blueprint, request
from pydantic import BaseModel, ValidationError

from webapp.api import bp as merchant_bp
from webapp.errors import DomainError
from webapp.extensions import db

# An operation's access level, as the staff role whose checks it passes (webapp/security.py KEY_ROLES):
# `read` operations are safe methods any key may call, `desk` writes need a desk key or a receptionist.
ACCESS_ROLES = {"read": "receptionist", "desk": "receptionist", "manager": "manager"}
COMMON_ERRORS = (400, 401, 403, 429)  # 400: the query-string guard (NUL, control characters)


@dataclass
class Operation:
    """One documented API operation."""

    method: str
    path: str  # as OpenAPI writes it: /api/v1/merchant/customers/{customer_id}
    endpoint: str
    summary: str
    description: str
    access: str
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    tag: str
    headers: dict[str, str] = field(default_factory=dict)  # response header -> description
    also: tuple[int, ...] = ()  # other success statuses answered with the same model (upsert: 200 found)
    body_required: bool = True
    # Path parameters that are integers (`<int:card_id>`); the others are customer UUIDs.
    integer_params: tuple[str, ...] = ()


OPERATIONS: list[Operation] = []


class BadInput(DomainError):
    """Input that does not fit its schema: `errors` maps each field (as sent) to its messages."""

    status = 422

    def __init__(
        self, errors: dict[str, list[str]], status: int = 422, message: str = "Some values are invalid."
    ):
        self.errors, self.status, self.message = errors, status, message
        super().__init__(message)


def operation(
    method: str,
    rule: str,
    *,
    summary: str,
    access: str = "read",
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    tag: str = "customers",
    headers: dict[str, str] | None = None,
    blueprint: Blueprint = merchant_bp,
    also: tuple[int, ...] = (),
    body_required: bool = True,
) -> Callable:
    """Register a view for `method rule`; it is called with `query=` and `body=` validated models."""

    def decorate(view):
        @wraps(view)
        def wrapped(**kwargs):
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                given = body_required or request.get_data(cache=True) or request.mimetype
                kwargs["body"] = parse_body(body) if given else None
            response = view(**kwargs)
            if method != "GET" and response.status_code < 400:
                db.session.commit()  # the one commit of a write (views and services flush)
            return response

        wrapped.min_role = ACCESS_ROLES[access]
        blueprint.add_url_rule(rule, view.__name__, wrapped, methods=[method])
        path = (blueprint.url_prefix or "") + re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", rule)
        doc = (view.__doc__ or "").strip()
        OPERATIONS.append(
            Operation(
                method,
                path,
                f"{blueprint.name}.{view.__name__}",
                summary,
                doc,
                access,
                query,
                body,
                response,
                status,
                tuple(sorted({*errors, *COMMON_ERRORS})),
                tag,
                dict(headers or {}),
                tuple(also),
                body_required,
                tuple(re.findall(r"<int:([^>]+)>", rule)),
            )
        )
        return wrapped

    return decorate


def field_errors(error: ValidationError, where: str = "body") -> dict[str, list[str]]:
    """{field as sent: [messages]} from pydantic's errors (a problem with the whole input goes on `where`)."""
    out: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        name = ".".join(str(p) for p in item["loc"]) or where
        out.setdefault(name, []).append(item["msg"])
    return out


def is_list(annotation: Any) -> bool:
    """True for list[...] and list[...] | None."""
    if get_origin(annotation) is list:
        return True
    return any(get_origin(a) is list for a in get_args(annotation))


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query string as `model` (lists: repeated or comma-separated); unknown arguments are ignored."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        choices = [name] + list(getattr(info.validation_alias, "choices", []) or [])
        for arg in choices:
            if arg not in request.args:
                continue
            if is_list(info.annotation):
                values[arg] = [
                    p.strip() for raw in request.args.getlist(arg) for p in raw.split(",") if p.strip()
                ]
            else:
                values[arg] = request.args.get(arg)
            break
    try:
        return model.model_validate(values)
    except ValidationError as e:
        raise BadInput(field_errors(e, "query")) from None


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The JSON body as `model`: 415 when it is not JSON, 400 when it does not parse, 422 naming each
    field that breaks its schema (a body that is not an object: on `body`)."""
    if request.mimetype != "application/json":
        raise BadInput(
            {"Content-Type": ["Send the body as application/json."]}, 415, "Send application/json."
        )
    raw = request.get_data(cache=True)
    try:
        return model.model_validate_json(raw or b"")
    except ValidationError as e:
        if any(item["type"] == "json_invalid" for item in e.errors()):
            raise BadInput(
                {"body": ["The body is not valid JSON."]}, 400, "The body is not valid JSON."
            ) from None
        raise BadInput(field_errors(e)) from None
