"""The interactive API docs page (Scalar), served entirely from this server.

Litestar's Scalar plugin loads the viewer, a stylesheet and a favicon from CDNs and
passes its options in an inline script. Here the viewer is a vendored copy
(`static/docs/`, see its README for version and licence), the options travel in a
`data-configuration` attribute, and nothing else is referenced, so the page works
under a Content-Security-Policy that allows scripts, fonts and fetches from this origin
only (`security_headers.HTML_CSP`).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Final

import msgspec
from litestar import Request, Router
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.static_files import create_static_files_router

DOCS_ASSETS_PATH: Final = "/static/docs"
DOCS_ASSETS_DIR: Final = Path(__file__).parent / "static" / "docs"
VIEWER_JS: Final = f"{DOCS_ASSETS_PATH}/scalar-api-reference.js"
VIEWER_CSS: Final = f"{DOCS_ASSETS_PATH}/scalar.css"
_VIEWER_OPTIONS: Final[dict[str, Any]] = {
    "withDefaultFonts": False,  # else its fonts come from fonts.scalar.com
    "telemetry": False,
    "agent": {"disabled": True},
    "hideClientButton": True,
}


class LocalScalarRenderPlugin(ScalarRenderPlugin):
    """Scalar at `/schema/scalar` (and `/schema`), with every asset from `DOCS_ASSETS_PATH`."""

    def __init__(self) -> None:
        super().__init__(
            js_url=VIEWER_JS, css_url=VIEWER_CSS, options=_VIEWER_OPTIONS, favicon="", style=""
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema["info"]["title"]))
        document_url = html.escape(self.get_openapi_json_route(request))
        options = html.escape(msgspec.json.encode(self.options).decode())
        page = f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title}</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" type="text/css" href="{self.css_url}">
  </head>
  <body>
    <noscript>The API reference needs JavaScript. The OpenAPI document itself is at
      <a href="{document_url}">{document_url}</a>.</noscript>
    <script id="api-reference" type="application/json" data-url="{document_url}"
      data-configuration="{options}"></script>
    <script src="{self.js_url}"></script>
  </body>
</html>
"""
        return page.encode()


def docs_assets_router() -> Router:
    """GET `DOCS_ASSETS_PATH/<file>`: the vendored viewer and its stylesheet."""
    return create_static_files_router(
        path=DOCS_ASSETS_PATH, directories=[DOCS_ASSETS_DIR], include_in_schema=False
    )
