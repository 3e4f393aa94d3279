"""Sans-I/O SIP core: bytes and `now` in, messages, actions and deadlines out.

Nothing here opens a socket, starts a task or reads the clock. The asyncio
transports in `ivr.transport` (to come) only move bytes and call
`next_deadline()` / `handle_timer(now)`.
"""

from router._native import use_native

use_native(__path__, __name__)  # the hot modules may load compiled (docs/native-build.md)
