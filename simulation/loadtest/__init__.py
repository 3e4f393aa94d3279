"""Load-test mode: drive a *running* Ringway in real time through its real interfaces.

``ringway loadtest SCENARIO --target URL`` plays a simulator scenario's traffic
(arrival rates per interval, handle times, patience, answer delays) against a
live service: simulated agents over the desktop websocket, chat customers over
the chat websocket, e-mails over SMTP. It measures what the service does with
that load — offered vs handled per channel, routing latency (contact created →
offer on the agent's socket) and every protocol error — rather than modelling it.

asyncio lives here only: the pure simulator modules in ``simulation/`` stay
free of it. Channels are plugins (`simulation.loadtest.drivers`): SIP calls
join as one more `ChannelDriver` once the telephony path can take them.
See docs/loadtest.md.
"""
