"""The OpenAPI document describes every route of the API from the same models the API validates with."""

from __future__ import annotations

from openapi_spec_validator import validate

from tests.controller.harness import RunningController


async def test_the_openapi_document_lists_the_api_with_its_schemas(api: RunningController) -> None:
    r = await api.call("GET", "/v2/openapi.json")
    assert r.status == 200
    spec = r.json
    validate(spec)
    paths = spec["paths"]
    for path in ("/v2/apps/", "/v2/apps/{id}/config/", "/v2/hooks/build/", "/v2/auth/login/", "/v2/certs/"):
        assert path in paths, path
    create = paths["/v2/apps/{id}/config/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConfigRequest"
    }
    assert "201" in create["responses"]
    schemas = spec["components"]["schemas"]
    assert {"AppResponse", "ConfigRequest", "ReleaseResponse", "CertRequest"} <= set(schemas)
    assert schemas["KeyRequest"]["required"] == ["id", "public"]
    refs = [
        ref
        for item in paths.values()
        for op in item.values()
        for ref in [
            op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        ]
        if "$ref" in ref
    ]
    assert all(ref["$ref"].rsplit("/", 1)[1] in schemas for ref in refs)
