"""Scale-out on Redis: a leased single matcher per tenant, fenced writes, nothing lost.

One node per tenant *leads*: it holds a Redis lease, runs the pure `Router` in
memory and writes every change to Redis through one fenced Lua script per batch.
The other nodes *follow*: they forward commands to the leader through a Redis
stream and replay the committed event stream into their own bus, stats and
event log. When the leader dies its lease expires, another node rebuilds the
router from the records in Redis (`router.restore`) and carries on.

Modules: `keys` (key names), `codec` (records as JSON), `scripts` (the Lua),
`mirror` + `records` (the store: write-behind in memory, fenced batches in
Redis), `lease`, `takeover` (the router rebuilt from Redis), `leader` (one term:
group commit, lease renewal, forwarded commands), `follower` (event replay),
`rpc` (forwarding; `CALLS` are the commands `RoutingService.call` runs on any
node), `replica` (a follower's copy of the records, for its websockets),
`chatlink` (chats and e-mail cases whose agent is on another node), `gauges`
(live metrics for followers), `connect`, `node` (the role loop, the service's
router host), `asgi` + `middleware` (the API on any node).
"""

from ringway.cluster.connect import probe_redis
from ringway.cluster.errors import ClusterUnavailable, NotLeader, RedisUnreachable
from ringway.cluster.node import ClusterNode

__all__ = ["ClusterNode", "ClusterUnavailable", "NotLeader", "RedisUnreachable", "probe_redis"]
