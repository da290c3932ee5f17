"""The OpenAPI document describes every route, each with an operationId."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigillo.api import openapi
from sigillo.crypto.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from sigillo.crypto.tokens import USER_CODE_ALPHABET, USER_CODE_LENGTH, normalize_user_code
from sigillo.domain.errors import InvalidInput
from sigillo.domain.values import display_name, email, slug
from tests.api.conftest import Api


@pytest.mark.asyncio
async def test_the_document_is_openapi_3_1_at_both_paths(api: Api) -> None:
    first = await api.client.get("/api/openapi.json")
    second = await api.client.get("/api/v0/openapi.json")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    document = first.json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Sigillo API"
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


@pytest.mark.asyncio
async def test_every_operation_has_a_unique_operation_id(api: Api) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert ("/api/auth/sign-in/email", "post") in {(p, m) for p, m, _ in operations}
    missing = [(p, m) for p, m, op in operations if not op.get("operationId")]
    assert missing == []
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids))


@pytest.mark.asyncio
async def test_the_docs_page_is_served(api: Api) -> None:
    response = await api.client.get("/api/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "swagger-ui" in response.text  # the vendored page: tests/web/test_api_docs.py


@pytest.mark.asyncio
async def test_every_operation_documents_its_errors_with_the_error_schema(api: Api) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    error = {"$ref": "#/components/schemas/Error"}
    assert document["components"]["schemas"]["Error"]["required"] == ["error"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            errors = {k: v for k, v in operation["responses"].items() if k[0] in "45"}
            assert {"400", "503"} <= set(errors), (method, path)
            for response in errors.values():
                assert response["content"]["application/json"]["schema"] == error
            if path.startswith("/api/v0/projects"):
                assert {"401", "403"} <= set(errors), (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)
    sign_in = document["paths"]["/api/auth/sign-in/email"]["post"]["responses"]
    assert {"401", "422", "429"} <= set(sign_in)


# The document's patterns against the validators they describe: the same strings pass both
# (schemathesis's positive_data_acceptance and negative_data_rejection rely on it).
_SPACES = [chr(code) for code in range(0x110000) if chr(code).isspace()]
_EDGES = list("aZ09.@-_ éßİ\x00\x01\x1b\x1f\x7f\x85\u2028🎉BCDFbcdfAE")
_CHARACTERS = st.sampled_from(_SPACES + _EDGES) | st.characters(exclude_categories=["Cs"])


def _texts(bound: int) -> st.SearchStrategy[str]:
    """Short strings, and strings about `bound` long, of characters near every rule's edge."""
    return st.text(_CHARACTERS, max_size=12) | st.text(
        _CHARACTERS, min_size=bound - 3, max_size=bound + 3
    )


def _matches(pattern: str, value: str) -> bool:
    """JSON Schema's reading: `$` is the end of the string (Python's also allows a final LF)."""
    return re.search(pattern.removesuffix("$") + r"\Z", value) is not None


def _accepted(validate: Callable[[str], object], value: str) -> bool:
    try:
        return validate(value) is not None
    except InvalidInput:
        return False


_RULES = {
    "display_name": (openapi.DISPLAY_NAME_PATTERN, display_name, 100),
    "slug": (openapi.SLUG_PATTERN, slug, 63),
    "email": (openapi.EMAIL_PATTERN, email, 254),
    "user_code": (openapi.USER_CODE_PATTERN, normalize_user_code, 16),
}


@pytest.mark.parametrize("rule", _RULES)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_a_pattern_matches_what_its_validator_accepts(rule: str, data: st.DataObject) -> None:
    pattern, validate, bound = _RULES[rule]
    value = data.draw(_texts(bound))
    assert _matches(pattern, value) == _accepted(validate, value)


@pytest.mark.parametrize("rule", _RULES)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_what_a_pattern_generates_its_validator_accepts(rule: str, data: st.DataObject) -> None:
    pattern, validate, _ = _RULES[rule]
    value = data.draw(st.from_regex(pattern.removesuffix("$") + r"\Z"))
    assert _accepted(validate, value), repr(value)


def test_the_documented_limits_are_the_servers() -> None:
    assert openapi.PASSWORD_LENGTHS == (MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)
    assert openapi.USER_CODE_ALPHABET == USER_CODE_ALPHABET
    assert _matches(openapi.USER_CODE_PATTERN, "B" * USER_CODE_LENGTH)
    assert not _matches(openapi.USER_CODE_PATTERN, "B" * (USER_CODE_LENGTH + 1))


def _untyped(schema: object, components: dict[str, object], *, top: bool, seen: set[str]) -> bool:
    """Whether a response schema leaves its content unsaid: `{}`, or an object without
    `properties` (at the top) or without typed values (a map, inside)."""
    if not isinstance(schema, dict) or not schema:
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return False  # recursive (DownloadTree): checked where it is first met
        return _untyped(components[name], components, top=top, seen=seen | {name})
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            return any(_untyped(s, components, top=top, seen=seen) for s in schema[key])
    kind = schema.get("type")
    if kind == "array":
        return _untyped(schema.get("items"), components, top=False, seen=seen)
    if kind == "object":
        properties = schema.get("properties") or {}
        values = schema.get("additionalProperties")
        if top and not properties:
            return True
        if not properties and not isinstance(values, dict | bool):
            return True
        if isinstance(values, dict) and _untyped(values, components, top=False, seen=seen):
            return True
        return any(_untyped(p, components, top=False, seen=seen) for p in properties.values())
    return kind is None


# Documented maps of names to values, on purpose: a download's body (behaviour.md 7).
_MAPS = {"downloadSecrets", "downloadEnvironmentSecrets"}


@pytest.mark.asyncio
async def test_every_operation_answers_a_typed_schema(api: Api) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    components = document["components"]["schemas"]
    untyped = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                content = response.get("content") or {}
                if not content:
                    untyped.append((method, path, status, "no content"))
                for media, body in content.items():
                    top = operation["operationId"] not in _MAPS
                    if _untyped(body.get("schema"), components, top=top, seen=set()):
                        untyped.append((method, path, status, media))
    assert untyped == []


@pytest.mark.asyncio
async def test_a_download_documents_every_formats_content_type(api: Api) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    for path in (
        "/api/v0/projects/{project_id}/environments/{environment_id}/secrets/download",
        "/api/environments/{environment_id}/secrets/download",
    ):
        content = document["paths"][path]["get"]["responses"]["200"]["content"]
        # the first media type reads every format (generated clients take the first)
        assert next(iter(content)) == "application/octet-stream"
        assert content["application/octet-stream"]["schema"]["format"] == "binary"
        assert {"application/json", "text/plain", "text/yaml"} <= set(content)
