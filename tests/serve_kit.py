"""A Ringway app served by a real uvicorn on a free 127.0.0.1 port, for the suites that
talk to it over real sockets (websockets, a browser, HTTP from another process).

Two shapes: `serving` runs the server as a task of the test's own event loop; the
threaded `serving_in_thread` is for synchronous tests (Playwright's sync API owns the
test thread's loop). Both stop the server on exit, running the app's lifespan shutdown.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import uvicorn


def _config(app: Any, options: dict[str, Any]) -> uvicorn.Config:
    settings: dict[str, Any] = {"log_level": "warning", "lifespan": "on", **options}
    return uvicorn.Config(app, host="127.0.0.1", port=0, **settings)


def _bound_port(server: uvicorn.Server) -> int:
    return int(server.servers[0].sockets[0].getsockname()[1])


@asynccontextmanager
async def serving(app: Any, **options: Any) -> AsyncIterator[int]:
    """Serve ``app`` in this loop (``options``: more `uvicorn.Config` settings); yields the port."""
    server = uvicorn.Server(_config(app, options))
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # the server failed to start: raise why
        await asyncio.sleep(0.01)
    try:
        yield _bound_port(server)
    finally:
        server.should_exit = True
        await task


@contextmanager
def serving_in_thread(app: Any, start_timeout: float = 10.0, **options: Any) -> Iterator[int]:
    """Serve ``app`` from a thread with its own loop; yields the port."""
    server = uvicorn.Server(_config(app, options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield _bound_port(server)
    finally:
        server.should_exit = True
        thread.join(15)
