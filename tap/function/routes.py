"""The route table: the single declaration of the API's routes.

The infrastructure generates one API Gateway route per entry (``ROUTE_KEYS``), so a path
that is not here gets API Gateway's own 404 and never runs code. Standard library only.
"""

# No `from __future__ import annotations`: every annotation here is valid at run time on
# Python 3.10+, and that import costs ~0.2 ms of every cold start.

# `typing` costs about 2.5 ms to import and the Lambda runtime has not imported it; a cold
# start compiles and imports this module, so the runtime class comes from collections (which
# the runtime has loaded) and mypy sees the equivalent typing.NamedTuple. mypy treats a
# module-level `TYPE_CHECKING` name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple

    class _RouteFields(NamedTuple):
        method: str
        path: str  # an API Gateway route path: literal, or ending in a greedy {proxy+}
        action: str  # the handler's name for what this route does

else:
    from collections import namedtuple

    _RouteFields = namedtuple("_RouteFields", "method path action")


class Route(_RouteFields):
    """One API route: ``Route(method, path, action)``, a named tuple."""

    __slots__ = ()

    @property
    def key(self) -> str:
        """The HTTP API route key, as in ``requestContext.routeKey``: ``"GET /health"``."""
        return f"{self.method} {self.path}"


# POST, PUT and DELETE are accepted on any path (docs/design.md's HTTP contract). A greedy
# {proxy+} does not match "/" itself, so the root is listed too.
ROUTES: tuple[Route, ...] = (
    Route("GET", "/", "health"),
    Route("GET", "/health", "health"),
    Route("GET", "/info", "info"),
    Route("POST", "/", "echo"),
    Route("POST", "/{proxy+}", "echo"),
    Route("PUT", "/", "echo"),
    Route("PUT", "/{proxy+}", "echo"),
    Route("DELETE", "/", "delete"),
    Route("DELETE", "/{proxy+}", "delete"),
)

ROUTE_KEYS: tuple[str, ...] = tuple(route.key for route in ROUTES)

GREEDY = "{proxy+}"


def compile_routes(
    routes: tuple[Route, ...],
) -> tuple[dict[str, dict[str, Route]], dict[str, dict[str, Route]]]:
    """``(literal, greedy)``: path (or a greedy route's prefix) -> method -> route."""
    literal: dict[str, dict[str, Route]] = {}
    greedy: dict[str, dict[str, Route]] = {}
    for route in routes:
        path, table = route.path, literal
        if path.endswith("/" + GREEDY):
            path, table = path[: -len(GREEDY)], greedy
        if not path.startswith("/") or "{" in path:
            raise ValueError(f"route {route.key!r}: a path must be literal or end in /{GREEDY}")
        table.setdefault(path, {})[route.method] = route
    return literal, greedy


_LITERAL, _GREEDY = compile_routes(ROUTES)
_GREEDY_PREFIXES = sorted(_GREEDY, key=len, reverse=True)  # the most specific first


def match(method: str, path: str) -> tuple[Route | None, tuple[str, ...]]:
    """The route API Gateway would pick: ``(route, ())``; else ``(None, allowed methods)``.

    A literal path beats a greedy one, a longer greedy prefix a shorter one. ``{proxy+}``
    matches one or more characters after its prefix (so ``/{proxy+}`` matches every path
    but ``/``). Paths compare exactly: no trailing-slash or case folding. Allowed methods
    are given only for a path the table names literally (a 405); a path that only greedy
    routes of other methods match is unknown (a 404), as it is to API Gateway, which has
    no 405 (docs/http-api.md rule 12).
    """
    by_method = _LITERAL.get(path, {})
    route = by_method.get(method)
    if route is not None:
        return route, ()
    allowed = set(by_method)
    for prefix in _GREEDY_PREFIXES:
        if len(path) > len(prefix) and path.startswith(prefix):
            route = _GREEDY[prefix].get(method)
            if route is not None:
                return route, ()
            allowed.update(_GREEDY[prefix])
    return None, tuple(sorted(allowed)) if by_method else ()
