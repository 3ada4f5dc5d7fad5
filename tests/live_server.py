"""A real uvicorn server in a thread of the test process, for connection-level behaviour (keep-alive,
chunked bodies, raw header bytes) that an in-process test client cannot show. Monkeypatches apply to it."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


@contextmanager
def live_server(app, *, http: str = "auto") -> Iterator[int]:
    """Serve `app` on a free loopback port (yielded) until the block ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, http=http, log_level="critical", lifespan="off", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:  # waits for start-up, bounded by the thread's life
        if not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def exchange(connection: http.client.HTTPConnection, method: str, path: str, body=None, headers=None) -> tuple[int, dict, bytes]:
    """One request and its whole answer on `connection` (status, lower-cased headers, body).

    A body given as an iterable of bytes is sent chunked (Transfer-Encoding: chunked)."""
    connection.request(method, path, body=body, headers=headers or {})  # http.client chunks an iterable body itself
    answer = connection.getresponse()
    return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
