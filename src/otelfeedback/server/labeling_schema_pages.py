"""The developer UI's label schemas: list, create, edit (``overwrite``), delete, each page
with its JSON twin."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from otelfeedback.errors import InvalidArgumentError
from otelfeedback.labeling.inputs import INPUT_TYPES
from otelfeedback.labeling.schemas import (
    LabelSchema,
    create_label_schema,
    delete_label_schema,
    get_label_schema,
    list_label_schemas,
)
from otelfeedback.server import labeling_forms
from otelfeedback.server._http import json_response
from otelfeedback.server.context import get_context
from otelfeedback.server.labeling_pages import form_message, read_checked, scoped
from otelfeedback.server.rendering import render

INPUT_LABELS = {
    "categorical": "Pick one (radio buttons)",
    "categorical_list": "Pick any (checkboxes)",
    "text": "Text",
    "text_list": "Several texts (one per line)",
    "numeric": "Number",
}


def schema_form(schema: LabelSchema) -> dict[str, list[str]]:
    """The form fields of an existing schema (to edit it)."""
    data = schema.input.to_dict()
    form = {
        "name": [schema.name],
        "type": [schema.type],
        "title": [schema.title],
        "instruction": [schema.instruction or ""],
        "input_type": [schema.input.type],
        "enable_comment": ["on" if schema.enable_comment else ""],
        "overwrite": ["1"],
    }
    for key, value in data.items():
        if key == "options":
            form[key] = ["\n".join(value)]
        elif key != "type":
            form[key] = ["" if value is None else str(value)]
    return form


def _model(form: dict[str, list[str]] | None, error: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": list_label_schemas(),
        "form": form or {},
        "form_error": error,
        "input_types": [(kind, INPUT_LABELS.get(kind, kind)) for kind in INPUT_TYPES],
        "last": labeling_forms.last,
        "schema_url": schema_url,
        **extra,
    }


async def schemas_page(
    request: Request, form: dict[str, list[str]] | None = None, error: str | None = None
) -> Response:
    ctx = get_context(request)
    model = await scoped(ctx, _model, form, error)
    if request.query_params.get("format") == "json":
        return json_response({"label_schemas": [s.to_dict() for s in model["schemas"]]})
    return render(request, "labeling/schemas.html", model, 400 if error else 200)


async def schema_page(request: Request) -> Response:
    ctx = get_context(request)
    name = request.path_params["name"]
    schema = await scoped(ctx, get_label_schema, name)
    model = await scoped(ctx, lambda: _model(schema_form(schema), None, editing=schema))
    if request.query_params.get("format") == "json":
        return json_response(schema.to_dict())
    return render(request, "labeling/schemas.html", model)


async def save_schema(request: Request) -> Response:
    ctx = get_context(request)
    form = await read_checked(request)
    try:
        arguments = labeling_forms.schema_arguments(form)
        await scoped(ctx, lambda: create_label_schema(**arguments))
    except InvalidArgumentError as exc:  # the page again, with the message and the form
        return await schemas_page(request, form, form_message(exc))
    return RedirectResponse("/labeling/schemas", 303)


async def delete_schema(request: Request) -> Response:
    ctx = get_context(request)
    await read_checked(request)
    await scoped(ctx, delete_label_schema, request.path_params["name"])
    return RedirectResponse("/labeling/schemas", 303)


def schema_url(name: str) -> str:
    return f"/labeling/schemas/{quote(name, safe='')}"


routes = [
    Route("/labeling/schemas", schemas_page, methods=["GET"]),
    Route("/labeling/schemas", save_schema, methods=["POST"]),
    Route("/labeling/schemas/{name:path}/delete", delete_schema, methods=["POST"]),
    Route("/labeling/schemas/{name:path}", schema_page, methods=["GET"]),
]
