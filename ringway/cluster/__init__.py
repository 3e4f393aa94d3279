"""Scale-out on Redis: a leased single matcher per tenant, fenced writes, nothing lost.

One node per tenant *leads*: it holds a Redis lease, runs the pure `Router` in
memory and writes every change to Redis through one fenced Lua script per batch.
The other nodes *follow*: they forward commands to the leader through a Redis
stream and replay the committed event stream into their own bus, stats and
event log. When the leader dies its lease expires, another node rebuilds the
router from the records in Redis (`router.restore`) and carries on.

Modules: `keys` (key names), `codec` (records as JSON), `scripts` (the Lua),
`mirror` (the write-behind store), `lease`, `leader` (one term as leader),
`follower` (event replay), `rpc` (forwarded commands), `node` (the role loop,
the service's router host), `middleware` (HTTP on any node).
"""

# ringway.service is importable only once ringway.api is (ringway.metrics imports
# ringway.api.errors, whose package imports the routes, which import the service).
import ringway.api  # noqa: F401  (import order, see above)
from ringway.cluster.errors import ClusterUnavailable, NotLeader, RedisUnreachable
from ringway.cluster.node import ClusterNode, probe_redis

__all__ = ["ClusterNode", "ClusterUnavailable", "NotLeader", "RedisUnreachable", "probe_redis"]
