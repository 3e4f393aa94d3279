"""The SIP edge's health on /metrics, read at scrape time (nothing counted per call here).

An operator whose trunk sees 503s wants to know which of the edge's overload
signals fired (`ivr.transport`: loop lag, loop-thread CPU share, or the kernel's
receive backlog), how much of the new traffic it is admitting, and how many
calls and transactions it holds:

====================================  =======  ===============================================
name                                  type     meaning
====================================  =======  ===============================================
ringway_sip_overloads_total{signal}   counter  probes that found overload, by signal
                                               (lag, busy, queue)
ringway_sip_shed_total                counter  new INVITE/REGISTER answered 503 (§21.5.4)
ringway_sip_dropped_total             counter  messages dropped (unparseable, no response
                                               possible)
ringway_sip_admit_ratio               gauge    share of new INVITE/REGISTER admitted now
ringway_sip_loop_busy_ratio           gauge    the loop thread's smoothed CPU share
ringway_sip_loop_lag_seconds          gauge    how late the last loop probe ran
ringway_sip_loop_peak_lag_seconds     gauge    the latest any probe ran since start
ringway_sip_receive_wait_seconds      gauge    wait of the oldest datagram in the kernel
ringway_sip_calls                     gauge    inbound calls the edge holds
====================================  =======  ===============================================
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ivr.edge import SipEdge

_SIGNALS = ("lag", "busy", "queue")


class SipEdgeCollector(Collector):
    """Reads one `SipEdge` and its transport (absent before start: zeros, not gaps)."""

    def __init__(self, edge: SipEdge) -> None:
        self._edge = edge

    def collect(self) -> Iterable[Metric]:
        edge = self._edge
        transport = edge.transport
        overloads = CounterMetricFamily(
            "ringway_sip_overloads", "Probes that found the SIP edge overloaded", labels=["signal"]
        )
        for signal in _SIGNALS:
            fired = transport.overloads.get(signal, 0) if transport is not None else 0
            overloads.add_metric([signal], fired)
        yield overloads
        yield CounterMetricFamily(
            "ringway_sip_shed", "New INVITE/REGISTER answered 503", value=edge.counters["shed"]
        )
        yield CounterMetricFamily(
            "ringway_sip_dropped", "SIP messages dropped", value=edge.counters["dropped"]
        )
        gauges = (
            ("admit_ratio", "Share of new INVITE/REGISTER admitted", "admit", 1.0),
            ("loop_busy_ratio", "The event-loop thread's smoothed CPU share", "utilisation", 0.0),
            ("loop_lag_seconds", "How late the last loop probe ran", "lag", 0.0),
            ("loop_peak_lag_seconds", "The latest any loop probe ran", "peak_lag", 0.0),
            ("receive_wait_seconds", "Wait of the oldest datagram received", "queue_delay", 0.0),
        )
        for suffix, doc, attr, idle in gauges:
            value = float(getattr(transport, attr)) if transport is not None else idle
            yield GaugeMetricFamily(f"ringway_sip_{suffix}", doc, value=value)
        calls = len(edge.calls)
        yield GaugeMetricFamily("ringway_sip_calls", "Inbound calls the edge holds", value=calls)

    def describe(self) -> Iterable[Metric]:
        """The families as they are now, so the registry refuses a name clash at register."""
        return list(self.collect())
