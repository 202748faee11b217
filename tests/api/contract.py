"""Calling the API as a client does and holding each answer to the OpenAPI document's schema for it."""

from __future__ import annotations

from typing import Any

import jsonschema
from django.test import Client


def call(
    client: Client,
    openapi: dict[str, Any],
    template: str,
    status: int,
    *,
    path: str | None = None,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """GET (or, with ``body``, POST) and validate the answer against the schema for ``template`` and ``status``."""
    method = "get" if body is None else "post"
    url = path or template
    if body is None:
        response = client.get(url, headers=headers)
    else:
        response = client.post(url, body, content_type="application/json", headers=headers)
    assert response.status_code == status, response.content.decode()
    operation = openapi["paths"][template][method]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**openapi, **schema}).validate(response.json())
    return response.json()
