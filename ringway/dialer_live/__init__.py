"""The live dialer: campaigns dialled over the SIP edge, answers routed to agents.

The pure parts (campaigns, leads, compliance, pacing) live in `dialer`; this
package is their asyncio driver inside the service:

* `ringway.dialer_live.outcomes` — SIP final status → attempt outcome, and the
  answering-machine detector registry (``none``, the default, or ``energy``);
* `ringway.dialer_live.amd` — answering-machine detection from frame energy and
  greeting cadence (sans I/O); `ringway.dialer_live.amd_tap` — it on a line's RTP;
* `ringway.dialer_live.line` — one attempt's UAC leg and RTP port: ring, answer,
  safe-harbour playback, hang-up;
* `ringway.dialer_live.bridge` — an answered line's agent legs: ring the offered
  agent's registered phone, relay RTP both ways once it answers;
* `ringway.dialer_live.wallboard` — the dialer's figures for the supervisor snapshot;
* `ringway.dialer_live.pool` — the agents a campaign may dial for (blending);
* `ringway.dialer_live.settings` — trunk, ring time (>= 15 s), grace, detector;
* `ringway.dialer_live.runner` — one running campaign's pacing loop
  (`runner_parts`: what it is given and counts);
* `ringway.dialer_live.preview`, `previewed`, `preview_desk` — preview mode: the
  lead on the agent's desktop first, their accept or skip, the accepted line;
* `ringway.dialer_live.service` — the campaigns of a service, their store,
  status figures and Prometheus instruments.
"""
