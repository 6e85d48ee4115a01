"""The HTTP entrypoint: the Litestar app serving the REST API, health and OpenAPI."""

from entrypoints.http.app import create_app

__all__ = ["create_app"]
