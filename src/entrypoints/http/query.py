"""Unknown query parameters are refused, for every /api/v1 operation, in this one place.

Litestar ignores a query parameter no handler asked for, so `?provder=dr-lee` (a typo)
or `?date=...` (a filter that does not exist) silently returns everything: an
integrator would act on a list they think is filtered. A guard on the API router
compares the request's query names with what the matched handler declares (its own
parameters, by their API names, and those of its dependencies) and answers 400
`unknown_query_parameter`, naming them.
"""

from __future__ import annotations

from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from entrypoints.http.auth import Guard
from entrypoints.http.problems import UnknownQueryParameters


def known_query_parameters() -> Guard:
    """A guard raising `UnknownQueryParameters` when the request names a query parameter
    the matched handler does not take. One per app: it keeps each handler's names, by
    the identity of the handler in the request's scope (a guard is handed a copy)."""
    declared_by_handler: dict[int, tuple[object, frozenset[str]]] = {}

    def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if not connection.scope.get("query_string"):
            return
        route_handler = connection.scope["route_handler"]
        known = declared_by_handler.get(id(route_handler))
        declared = known[1] if known is not None and known[0] is route_handler else None
        if declared is None:
            path_params = cast("dict[str, Any]", dict.fromkeys(connection.path_params))
            model = handler.create_kwargs_model(path_parameters=path_params)
            declared = frozenset(p.field_alias for p in model.expected_query_params)
            declared_by_handler[id(route_handler)] = (route_handler, declared)
        unknown = sorted(set(connection.query_params) - declared)
        if unknown:
            raise UnknownQueryParameters(unknown)

    return guard
