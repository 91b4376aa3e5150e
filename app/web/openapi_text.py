"""The app-wide refusal of control characters (app.web.input), stated in the OpenAPI document:
every text a request carries in its path, query or body, names of fields and keys included."""

from __future__ import annotations

from typing import Any

from app.text import STORABLE_PATTERN

# A string that already states its own pattern, choices or format names exactly what it takes.
_STATED = {"pattern", "enum", "const", "format"}
_CHECKED_PARAMETERS = {"path", "query"}  # what the check reads; headers and cookies it does not


def _storable_text() -> dict[str, Any]:
    return {"type": "string", "pattern": STORABLE_PATTERN}


def _constrain(node: Any, components: dict[str, Any], done: set[str]) -> None:
    """Give every text in one request schema the pattern, following references once each."""
    if isinstance(node, list):
        for item in node:
            _constrain(item, components, done)
        return
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in done:
            done.add(name)
            _constrain(components[name], components, done)
        return
    if node.get("type") == "string" and not _STATED & node.keys():
        node["pattern"] = STORABLE_PATTERN
    if node.get("type") == "object" and node.get("additionalProperties", True) is not False:
        node.setdefault("propertyNames", _storable_text())  # a map's keys are texts too
    for key in ("properties", "patternProperties"):
        _constrain(list(node.get(key, {}).values()), components, done)
    for key in ("items", "prefixItems", "additionalProperties", "anyOf", "oneOf", "allOf"):
        _constrain(node.get(key), components, done)


def state_storable_text(schema: dict[str, Any]) -> None:
    """Every path and query parameter and every request body, as the check reads them (request
    schemas only: their components are not shared with responses)."""
    components = schema.get("components", {}).get("schemas", {})
    done: set[str] = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in _CHECKED_PARAMETERS:
                    _constrain(parameter.get("schema"), components, done)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _constrain(media.get("schema"), components, done)
