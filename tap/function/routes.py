"""The route table: the single declaration of the API's routes.

The infrastructure generates one API Gateway route per entry (``ROUTE_KEYS``), so a path
that is not here gets API Gateway's own 404 and never runs code. Standard library only.
"""

from __future__ import annotations

from typing import NamedTuple


class Route(NamedTuple):
    method: str
    path: str  # an API Gateway route path: literal, or ending in a greedy {proxy+}
    action: str  # the handler's name for what this route does

    @property
    def key(self) -> str:
        """The HTTP API route key, as in ``requestContext.routeKey``: ``"GET /health"``."""
        return f"{self.method} {self.path}"


# POST, PUT and DELETE are accepted on any path (DESIGN.md's HTTP contract). A greedy
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
