"""The API contract: the schema class (``AutoSchema``), and every operation of the OpenAPI schema documents the
4xx responses it can give.

A drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): 400 where the request
carries a body or query parameters (validation and rule violations, a malformed ``page_size``), 401 and 403 on
every operation that needs a signed-in user, 404 where the path names a record (or a page of a list), 429 on the
token endpoint (per-address login limit). Responses a view already documents are left as they are.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers


class AutoSchema(SpectacularAutoSchema):
    """A read-only choice field of a model field that may be blank answers "" too: document that (the
    generated field of a read-only ModelSerializer field drops ``allow_blank``, so the schema said otherwise)."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, serializers.ChoiceField) and field.read_only and not field.allow_blank:
            model = getattr(getattr(field.parent, "Meta", None), "model", None)
            try:
                model_field = model._meta.get_field(field.source) if model is not None else None
            except (FieldDoesNotExist, AttributeError, TypeError):  # a property, a dotted path, not a model
                model_field = None
            if model_field is not None and model_field.blank and model_field.choices:
                field.allow_blank = True
                if model_field.null:
                    field.allow_null = True
        return super()._map_serializer_field(field, direction, bypass_extensions)


DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# DRF's validation errors: {"field": ["message", ...], "non_field_errors": [...]} (or a bare list of messages).
VALIDATION = {
    "oneOf": [
        {"type": "object", "additionalProperties": {}},
        {"type": "array", "items": {"type": "string"}},
    ]
}
ERRORS = {
    400: ("请求参数或内容不正确", "ValidationError", VALIDATION),
    401: ("未登录或令牌无效", "ErrorDetail", DETAIL),
    403: ("无权进行此操作", "ErrorDetail", DETAIL),
    404: ("记录不存在或不在您的管辖范围内", "ErrorDetail", DETAIL),
    429: ("尝试过于频繁，请稍后再试", "ErrorDetail", DETAIL),
}
METHODS = {"get", "put", "patch", "post", "delete", "head", "options", "trace"}


def _response(code: int) -> dict:
    description, component, _ = ERRORS[code]
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def document_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for _, component, schema in ERRORS.values():
        schemas.setdefault(component, schema)
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            parameters = operation.get("parameters", [])
            codes = set()
            if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
                codes.add(400)
            if {} not in operation.get("security", []):  # not open to anonymous callers
                codes |= {401, 403}
            if any(p.get("in") == "path" for p in parameters) or any(p.get("name") == "page" for p in parameters):
                codes.add(404)
            if path.endswith("/auth/token/"):
                codes |= {400, 429}
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(str(code), _response(code))
    return result
