"""Call control: inbound calls through the IVR to the router, agent legs, the bridge.

Signalling becomes call-control events at the edge (`events.py`); the pure
`CallSession` (one per inbound call) turns them into commands (`commands.py`);
`b2bua.py` is the asyncio driver that executes them against the SIP edge, the
RTP endpoints and a `ContactCentre` (the router side, `ringway.telephony`).
Neither the router nor the IVR flow engine ever sees a SIP message.
"""

from router._native import use_native

use_native(__path__, __name__)  # the call path may load compiled (docs/native-build.md)
