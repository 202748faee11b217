"""One shape for the API's refusals of a request that does not parse, and the document saying so.

django-ninja answers a query, path or body that fails validation with ``{"detail": [...]}`` — a list where
every declared error is ``{"detail": string}`` — and declares that 422 on no operation. Here it is
``{"detail": string, "code": "invalid", "errors": [...]}``: ``detail`` names each field and what is wrong
("query.life_area: Input should be ..."), so it fits every error schema the operations declare, and the
OpenAPI document declares it (``ValidationErrorOut``) for 422 on every operation — alongside an operation's own
422 where it has one — and ``ErrorOut`` for 400 (a NUL byte in the address, ``fuwu.common.middleware``; a body
that is not strict JSON, ``fuwu.api.guards``) where the operation does not declare 400 itself.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError

VALIDATION_ERROR_OUT: dict[str, Any] = {
    "title": "ValidationErrorOut",
    "type": "object",
    "description": "A request that does not parse: ``detail`` says what is wrong, field by field.",
    "required": ["detail", "code", "errors"],
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "enum": ["invalid"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}
ERROR_OUT: dict[str, Any] = {
    "title": "ErrorOut",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
}
VALIDATION_REF = {"$ref": "#/components/schemas/ValidationErrorOut"}
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def validation_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    problems = [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in problems)
    return {"detail": detail or "the request does not parse", "code": "invalid", "errors": problems}


def install(api: NinjaAPI) -> None:
    """The exception handler for ninja's ``ValidationError`` on ``api``."""

    def refuse(request: HttpRequest, exc: ValidationError | type[ValidationError]) -> HttpResponse:
        errors = exc.errors if isinstance(exc, ValidationError) else []
        return api.create_response(request, validation_body(list(errors)), status=422)

    api.add_exception_handler(ValidationError, refuse)


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def declare(document: dict[str, Any]) -> dict[str, Any]:
    """Add the 422 (and, where missing, 400) refusals to every operation of an OpenAPI ``document``."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["ValidationErrorOut"] = VALIDATION_ERROR_OUT
    schemas.setdefault("ErrorOut", ERROR_OUT)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            # ninja keys the responses by int; the document (JSON) by string.
            for status in [k for k in responses if isinstance(k, int)]:
                responses[str(status)] = responses.pop(status)
            own = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema")
            schema = (
                {"anyOf": [own, VALIDATION_REF]}
                if own and VALIDATION_REF not in (own, *own.get("anyOf", ()))
                else VALIDATION_REF
            )
            responses["422"] = _json(schema, "The request cannot be used as sent (``code`` says why)")
            responses.setdefault("400", _json(ERROR_REF, "A NUL byte in the address, or a body that is not JSON"))
    return document
