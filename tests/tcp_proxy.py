"""A TCP proxy in threads, for a database that goes away without being stopped.

127.0.0.1:<port> → `target`, byte for byte. `swallow()` makes it a black hole: bytes
either way are dropped and new connections are accepted and never answered (a database
that hangs, not one that refuses). It runs in threads, not on the test's event loop,
because some clients connect from a blocking call (Piccolo checks the server version
through a loop of its own while the test's loop waits).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

__all__ = ["TcpProxy", "tcp_proxy"]


class TcpProxy:
    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target = target
        self.swallowing = False
        self._listener = socket.create_server(("127.0.0.1", port))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def swallow(self) -> None:
        self.swallowing = True

    def restore(self) -> None:
        self.swallowing = False

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _keep(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
        return sock

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            self._keep(client)
            if self.swallowing:
                self._start(self._drain, client)
                continue
            try:
                upstream = self._keep(socket.create_connection(self.target, timeout=5))
            except OSError:
                client.shutdown(socket.SHUT_RDWR)
                continue
            upstream.settimeout(None)
            self._start(self._pipe, client, upstream)
            self._start(self._pipe, upstream, client)

    def _drain(self, source: socket.socket) -> None:
        with suppress(OSError):
            while source.recv(65536):
                pass

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                if not self.swallowing:
                    sink.sendall(data)
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self._accepting.join(5)
        self._listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked reading it
        for thread in threads:
            thread.join(5)
        for sock in sockets:
            sock.close()


@contextmanager
def tcp_proxy(target: tuple[str, int], port: int = 0) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target, port)
    try:
        yield proxy
    finally:
        proxy.close()
