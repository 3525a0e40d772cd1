"""The OpenAPI document tells what the API answers: problems and the Idempotency-Key header.

FastAPI documents each route's success and, for its own validation error, a 422 shape we
never send. After it builds the document, this hook adds for every /v1 operation the
problems its route class can answer, all as `application/problem+json` with the
`ProblemDetails` schema:

    401  every operation (the API key is checked first)
    400  an operation with a request body (not JSON, or not multipart)
    404  an id in the path, an `*_id` query parameter or body property (not found, or not
         in the key's scope)
    409  a write (a clash with stored data; a concurrent request with the same key)
    422  an operation with any input, and every POST (the Idempotency-Key rules)

plus any a route declares itself (`responses={403: problem_response(...)}`), and documents
the optional `Idempotency-Key` header (1-255 characters) on every POST.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from billstream.api.problems import PROBLEM_MEDIA_TYPE, ProblemDetails
from billstream.api.routing import MAX_KEY_LENGTH

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DESCRIPTIONS = {
    400: "The body is not valid JSON (`malformed_json`) or not a readable form",
    401: "No API key, or an unknown or revoked one (`unauthenticated`)",
    403: "The key may not do this (`permission_denied`)",
    404: "No such id in the key's scope (`not_found`)",
    409: "The change clashes with stored data, or a concurrent request used the same "
    "Idempotency-Key",
    422: "The input is invalid (`invalid_input` with every failure in `errors`, "
    "`idempotency_key_reused`, `invalid_cursor`, or a domain code)",
    503: "The service cannot answer now",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key and request returns the first response "
    "(header `Idempotent-Replayed: true`); with another request: 422 `idempotency_key_reused`.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}
_SCHEMA_REF = "#/components/schemas/ProblemDetails"


def install(app: FastAPI) -> None:
    """Replace `app.openapi` by one that completes FastAPI's document once, then caches it."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            describe_problems(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def problem_statuses(operation: dict[str, Any], method: str, schemas: dict[str, Any]) -> set[int]:
    """The problems a /v1 operation can answer, from its inputs as documented and `method`."""
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    statuses = {401}
    if has_body:
        statuses.add(400)
    if any(
        parameter["in"] == "path" or parameter["name"].endswith("_id") for parameter in parameters
    ) or any(name.endswith("_id") for name in _body_properties(operation, schemas)):
        statuses.add(404)
    if method in _WRITES:
        statuses.add(409)
    if parameters or has_body or method == "POST":
        statuses.add(422)
    return statuses


def describe_problems(document: dict[str, Any]) -> None:
    """Add problem responses and the Idempotency-Key header to `document` in place.

    An operation that requires the API key (`security`) runs in the /v1 route class, which
    authenticates, checks the Idempotency-Key and owns the transaction.
    """
    components = document.setdefault("components", {}).setdefault("schemas", {})
    schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components["ProblemDetails"] = schema
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if operation.get("security"):
                statuses = problem_statuses(operation, method.upper(), components)
                _add_problems(operation, statuses)
                if method == "post":
                    operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
            _problems_as_problem_json(operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


def _body_properties(operation: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """Names of the properties a request body may carry, at any depth."""
    names: set[str] = set()
    seen: set[str] = set()
    pending = [
        media.get("schema", {})
        for media in operation.get("requestBody", {}).get("content", {}).values()
    ]
    while pending:
        schema = pending.pop()
        if not isinstance(schema, dict):
            continue
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                pending.append(schemas.get(name, {}))
            continue
        properties = schema.get("properties", {})
        names.update(properties)
        pending.extend(properties.values())
        for key in ("items", "additionalProperties"):
            pending.append(schema.get(key))
        for key in ("anyOf", "oneOf", "allOf"):
            pending.extend(schema.get(key, []))
    return names


def _add_problems(operation: dict[str, Any], statuses: set[int]) -> None:
    responses = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
    operation["responses"] = dict(sorted(responses.items()))


def _problems_as_problem_json(operation: dict[str, Any]) -> None:
    """Every 4xx and 5xx of the operation: a ProblemDetails body, and nothing else."""
    for status, response in operation.get("responses", {}).items():
        if status[0] in "45":
            if status == "422" or response.get("description") in ("", "Validation Error"):
                response["description"] = _DESCRIPTIONS.get(int(status), "A problem")
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _SCHEMA_REF}}}
