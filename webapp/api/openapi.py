"""The OpenAPI 3.1 document, written from the route registry and the schemas (never by hand), and the
readable reference page made from the same document."""

from functools import cache

from flask import current_app, render_template
from pydantic.json_schema import models_json_schema

from webapp.api import docs_bp, schemas
from webapp.api.registry import OPERATIONS, Operation
from webapp.error_pages import MESSAGES

REF = "#/components/schemas/{model}"
SECURITY = [{"apiKey": []}, {"session": []}]


def models() -> list:
    """Every model an operation names, with the mode it is used in."""
    found = {(schemas.Problem, "serialization")}
    for op in OPERATIONS:
        found |= {(op.query, "validation")} if op.query else set()
        found |= {(op.body, "validation")} if op.body else set()
        found |= {(op.response, "serialization")} if op.response else set()
    return sorted(found, key=lambda pair: (pair[0].__name__, pair[1]))


def parameters(op: Operation, component: dict) -> list[dict]:
    """Path parameters, then the query model's fields as query parameters (lists: form, exploded)."""
    integer, uuid = {"type": "integer", "minimum": 1}, {"type": "string", "format": "uuid"}
    out = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": integer if name in op.integer_params else uuid,
        }
        for name in op.path.split("{")[1:]
        for name in [name.split("}")[0]]
    ]
    for name, prop in (component.get("properties") or {}).items() if component else ():
        schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
        out.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": schema,
                "description": prop.get("description", ""),
                "style": "form",
                "explode": True,
            }
        )
    return out


def responses(op: Operation) -> dict:
    """The success answer and every error status the operation documents (all problem+json)."""
    ok = {"description": op.summary}
    assert op.response is not None, f"{op.endpoint} declares no response model"
    ok["content"] = {"application/json": {"schema": {"$ref": REF.format(model=op.response.__name__)}}}
    if op.headers:
        ok["headers"] = {h: {"description": d, "schema": {"type": "string"}} for h, d in op.headers.items()}
    out = {str(status): ok for status in (op.status, *op.also)}
    problem = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}
    for status in op.errors:
        out[str(status)] = {"description": MESSAGES.get(status, ("Error",))[0], "content": problem}
    return out


@cache
def document(version: str = "1.0.0") -> dict:
    """The whole OpenAPI 3.1 document (built once per process: the registry is fixed at import)."""
    keys, defs = models_json_schema(models(), ref_template=REF)
    components = defs.get("$defs", {})
    paths: dict = {}
    for op in OPERATIONS:
        query = components.get(op.query.__name__) if op.query else None
        entry = {
            "operationId": op.endpoint.replace(".", "_"),
            "summary": op.summary,
            "description": op.description,
            "tags": [op.tag],
            "parameters": parameters(op, query),
            "responses": responses(op),
            "security": SECURITY,
            "x-access": op.access,
        }
        if op.method == "POST":
            entry["parameters"].append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                }
            )
        if op.method in ("PUT", "PATCH", "DELETE"):
            entry["parameters"].append(
                {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"}}
            )
        if op.body is not None:
            entry["requestBody"] = {
                "required": op.body_required,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}},
            }
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    for op in OPERATIONS:  # query models are parameters, not schemas of their own
        if op.query is not None:
            components.pop(op.query.__name__, None)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "Frontdesk API",
            "version": version,
            "description": "The customer book of an appointment business: one API for the calendar, "
            "website widgets, the till and integrations. Errors are application/problem+json "
            "(RFC 9457); unknown body fields are ignored.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "fd_<prefix>_<secret>, from "
                    "Settings → API keys or `flask create-api-key`.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": current_app.config["SESSION_COOKIE_NAME"],
                    "description": "A signed-in staff session (writes need the X-CSRFToken header).",
                },
            },
        },
    }


@docs_bp.get("/api/v1/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document (public: it holds no data)."""
    return document()


@docs_bp.get("/api/docs")
def docs():
    """The API reference, rendered on the server from the OpenAPI document."""
    doc = document()
    return render_template("api/docs.html", doc=doc, schemas=doc["components"]["schemas"])
