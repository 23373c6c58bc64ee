"""The client connections a local server has open, so that stopping it closes them too:
socketserver's shutdown closes only the listening socket, and a kept-alive connection
would keep its thread (and the client) waiting. Shared by the emulator's server
(tap.local.gateway.listener) and the Runtime API's (tap.local.runtime.api)."""

from __future__ import annotations

import contextlib
import socket
import threading
from socketserver import StreamRequestHandler


class OpenConnections:
    """The open connections of one server; safe from every connection's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()

    def add(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.add(connection)

    def discard(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.discard(connection)

    def shut_down_all(self) -> None:
        """Shut every open connection down, both ways: its reader sees the end at once."""
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class TrackedConnection(StreamRequestHandler):
    """A request handler whose connection is among its server's ``open_connections`` (an
    OpenConnections) while it is being served."""

    def setup(self) -> None:
        super().setup()
        self._open_connections().add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._open_connections().discard(self.connection)

    def _open_connections(self) -> OpenConnections:
        open_connections = getattr(self.server, "open_connections", None)
        assert isinstance(open_connections, OpenConnections), "the server tracks none"
        return open_connections
