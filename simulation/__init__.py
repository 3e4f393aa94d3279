"""Planners' simulator: the routing core in SimPy virtual time (simulator issue).

The digital twin feeds the *production* router (`router.engine.Router`) with
``now = env.now``: simulated customers arrive, wait and hang up, simulated
agents log in, take breaks, accept, talk and wrap up, and every routing
decision is the router's own. Nothing of the routing logic is copied here.

Commands (mounted in `ringway.cli`)::

    ringway simulate SCENARIO [--json] [--report DIR] [--replications N] [--seed S]
    ringway staff SCENARIO [--json] [--method simulate|erlang]
    ringway erlang c --calls 100 --period 1800 --aht 180 --agents 14 --target 20 --json
    ringway erlang a ... --patience 300        ringway erlang b ...

Modules, in the order data flows:

* scenario files — `schema` (pydantic), `loader` (located one-line errors),
  `embed` (the service configuration, by the service's own rules), `traffic`
  (arrivals, talk, wrap-up, patience), `staffplan` (groups, shifts, breaks),
  `durations`, `distributions`, `model` (the loaded `Scenario`);
* one replication — `twin` (the router pump and its timer), `customers`,
  `people`, `collect` (sums per queue and interval), `store` (a store that
  keeps nothing and counts events), `streams` (seeded streams, antithetic pairs), `replication`;
* live load tests — `loadtest` (asyncio, against a running service; see
  docs/loadtest.md);
* results — `runner` (replications, variants, worker processes), `metrics`
  (the definitions: service level, abandon-aware service level, occupancy...),
  `results` (means and 95 % Student-t half-widths, `tstats`), `tables`,
  `report` (HTML + PNG charts), `golden` (the scenarios' golden results);
* planning — `erlang` (B, C, square-root staffing), `erlang_a` (exact
  M/M/N+M), `required` (fewest agents for a target), `staffing` + `staffsim`
  (per-interval staffing: Erlang start, simulation refinement).

Seeded scenarios with golden results live in ``simulation/scenarios/``
(see its README); ``benchmarks/simulation.py`` measures the twin's speed.
"""

from router._native import use_native

use_native(__path__, __name__)
