"""`with_links`: links land on the named response, and a missing response is an error."""

from __future__ import annotations

import pytest
from litestar.openapi.spec import Link, OpenAPIResponse

from entrypoints.http.links import with_links

READ_IT = {"Read": Link(operation_id="getThing", parameters={"id": "$response.body#/id"})}


def test_links_are_added_to_the_named_response_only() -> None:
    created = OpenAPIResponse(description="created")
    refused = OpenAPIResponse(description="refused")
    with_links(201, READ_IT)(operation_id="makeThing", responses={"201": created, "409": refused})
    assert created.links == READ_IT
    assert refused.links is None


def test_links_from_an_undocumented_response_fail_the_schema_build() -> None:
    with pytest.raises(ValueError, match="makeThing has no 201 response"):
        with_links(201, READ_IT)(
            operation_id="makeThing", responses={"200": OpenAPIResponse(description="ok")}
        )
