"""The OpenAPI document describes every route, each with an operationId."""

from __future__ import annotations

import pytest

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
    assert "swagger-ui" in response.text


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
