"""The OpenAPI document: every operation with the problems it can answer, its ETag and Location
headers, bearer-token security and stable operation ids (what generated clients are named by)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.web.openapi_text import state_storable_text
from app.web.schemas import ImportProblem, Problem, problem_response

API_DESCRIPTION = """\
The JSON API of Stepwise: improvement plans, promotion cases, assessments, HR reports.

**Signing in.** Call the API with a personal token: `Authorization: Bearer sw_…`. Create one
with `POST /api/tokens` — signed in with `POST /api/session` (employee number and password;
then send the returned `csrf_token` as `X-CSRF-Token` on writes) or with a write token. The
secret is shown once.

**Errors** are RFC 9457 problem details (`application/problem+json`) with a stable `code`
(`wrong_state`, `incomplete`, `already_done`, `not_allowed`, `stale`, …) and `errors` per field,
in the request's language (`Accept-Language`, else the caller's own language).

**Text.** No text a request carries — in the path, the query, a form or JSON, names of fields
and keys included — may hold a control character (C0 but tab, line feed and carriage return;
DEL; C1) or a lone surrogate: such a request is refused with 422 naming the field. The document
states this as a `pattern` on each text and `propertyNames` on open objects.

**Concurrency.** Every resource answers with an `ETag`. A write to a plan or a case must send
`If-Match` with the ETag it was based on: 412 when someone else changed it first, 428 without
it. Other writes may send `If-Match` too.

**Verifying.** A plan version's `content_hash` is the SHA-256 (hex) of its `content` as
canonical JSON (keys sorted, separators `,` and `:`, UTF-8, no ASCII escaping). An event's
`payload_hash` is the same over its `payload`; its `hash` is the same over the object of
`instance_id`, `seq`, `at` (as `sealed_at`), `actor_id`, `on_behalf_of_id`, `trigger`,
`from_state`, `to_state`, `comment`, `payload_hash` and `prev_hash`, which is the `hash` of the
event before it (empty for the first).
"""

BEARER = "bearerAuth"
UNSAFE = {"post", "put", "patch", "delete"}
ETAG_HEADER = {"description": "The resource's version (send it back as If-Match)",
               "schema": {"type": "string"}}
LOCATION_HEADER = {"description": "Where the created resource lives",
                   "schema": {"type": "string"}}


def _components(schema: dict[str, Any]) -> None:
    """The problem shapes in, FastAPI's own validation-error shapes out."""
    found = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        found.pop(name, None)
    for model in (Problem, ImportProblem):
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, nested in definition.pop("$defs", {}).items():
            found[name] = nested
        found[model.__name__] = definition
    schema["components"]["securitySchemes"] = {BEARER: {
        "type": "http", "scheme": "bearer",
        "description": "A personal API token (POST /api/tokens); the secret starts with sw_"}}
    schema["security"] = [{BEARER: []}]


def _plain_parameters(operation: dict[str, Any]) -> None:
    """An optional query or header parameter is left out, never null: drop the null branch."""
    for parameter in operation.get("parameters", []):
        branches = parameter.get("schema", {}).get("anyOf")
        if branches and {"type": "null"} in branches and len(branches) == 2:
            kept = next(b for b in branches if b != {"type": "null"})
            parameter["schema"] = {**{k: v for k, v in parameter["schema"].items()
                                      if k != "anyOf"}, **kept}


def _binary_uploads(schema: dict[str, Any]) -> None:
    """Uploaded files are binary strings (how clients and fuzzers know to send a file)."""
    for definition in schema.get("components", {}).get("schemas", {}).values():
        for prop in definition.get("properties", {}).values():
            if prop.get("contentMediaType") == "application/octet-stream":
                prop["format"] = "binary"


def _exact_bounds(node: Any) -> None:
    """Integer bounds as the integers they are: FastAPI's document model turns them into floats
    (exact only below 2^53, so a wider bound is refused here rather than stated wrong)."""
    if isinstance(node, list):
        for item in node:
            _exact_bounds(item)
    elif isinstance(node, dict):
        if node.get("type") == "integer":
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                value = node.get(key)
                if isinstance(value, float):
                    if not value.is_integer() or abs(value) >= 2**53:
                        raise RuntimeError(f"integer bound {value!r} cannot be stated exactly")
                    node[key] = int(value)
        for item in node.values():
            _exact_bounds(item)


def _standard_problems(operation: dict[str, Any], method: str, path: str) -> list[int]:
    """The errors any operation of this kind can answer with."""
    statuses = [500]
    if operation.get("security") != []:
        statuses.append(401)
    if method in UNSAFE:
        statuses.append(403)  # a read-only token, or a session write without its CSRF header
    if "{" in path:
        statuses.append(404)
    if operation.get("requestBody"):
        statuses.append(400)  # a body that cannot be parsed at all (not JSON, broken multipart)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    return statuses


def _document_operation(operation: dict[str, Any], method: str, path: str) -> None:
    _plain_parameters(operation)
    responses = operation.setdefault("responses", {})
    validation = responses.get("422", {}).get("content", {}).get("application/json", {})
    if "HTTPValidationError" in str(validation.get("schema", "")):
        del responses["422"]
    for status in _standard_problems(operation, method, path):
        responses.setdefault(str(status), problem_response(status))
    for status, response in responses.items():
        if status == "200" and method == "get":
            response.setdefault("headers", {})["ETag"] = ETAG_HEADER
        elif status == "201":
            response.setdefault("headers", {}).update({"Location": LOCATION_HEADER,
                                                       "ETag": ETAG_HEADER})


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The document FastAPI builds from the routes, completed by the rules above."""
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                         description=API_DESCRIPTION, routes=app.routes)
    _components(schema)
    _binary_uploads(schema)
    _exact_bounds(schema)
    state_storable_text(schema)
    seen: dict[str, str] = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            _document_operation(operation, method, path)
            where = f"{method} {path}"
            if seen.setdefault(operation["operationId"], where) != where:
                raise RuntimeError(f"operation id {operation['operationId']!r} is used twice")
    return schema


def operation_id(route: APIRoute) -> str:
    """An operation's id: its function's name (what generated clients call it)."""
    return route.name


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
