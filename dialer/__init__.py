"""The outbound dialer: campaigns, lead lists, compliance and (in ``dialer.pacing``) pacing.

Its own top-level package because it sits across layers: it reads the customer
store (consent), feeds the router (outbound contacts to agents) and the SIP edge
(origination), and its rules must run identically in the live service and in
the simulator. Like the routing core it is pure: every decision takes ``at``
(the instant of the attempt) as a parameter and reads no clock; state lives in
an injected `dialer.store.DialerStore` (memory or SQLite).

Layout:

* `dialer.campaign` — the campaign file (YAML), validated with located errors;
* `dialer.leads` — lead state, attempt outcomes and retry scheduling;
* `dialer.lists` — CSV import with a row-by-row report (nothing silently dropped);
* `dialer.compliance` — DNC, consent, calling windows and attempt caps, each
  answer kept as a proof record (`Compliance.check` → `Verdict`);
* `dialer.store` / `dialer.store_sqlite` — the persistent state (DNC, attempts,
  leads, proofs), so caps and the DNC list hold across restarts;
* `dialer.cli` — ``ringway dialer check | import | dnc``.
"""
