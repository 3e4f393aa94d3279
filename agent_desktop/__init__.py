"""Agent desktop, supervisor wallboard and chat widget over websockets.

The protocol is documented in ``docs/desktop-protocol.md``. Layout:

* ``protocol`` — client messages, validated (pydantic, unknown fields refused);
* ``outbox``, ``session`` — numbered frames, resume, one writer per connection;
* ``hub`` — every session, the router event feed, heartbeats, queue figures,
  the disconnect grace; ``feed`` turns router events into frames;
* ``endpoint``, ``desktop_socket``, ``chat_socket`` — one websocket's life;
* ``agent_ops``, ``supervisor_ops`` — what each role may do, checked per message;
* ``chat`` — the chat desk (chats as contacts, relay, typing, end);
* ``views``, ``pop``, ``snapshots`` — what the pages show;
* ``routes`` — mounting on the app; ``web/`` — the pages (no build step);
* ``client`` — a Python client of the protocol (tests, benchmark, scripts).
"""

from router._native import use_native

use_native(__path__, __name__)  # the call's service side may load compiled (docs/native-build.md)
