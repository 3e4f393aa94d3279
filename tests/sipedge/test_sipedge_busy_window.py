"""The busy signal is sustained saturation, not one garbage-collection pause (§21.5.4).

The edge sheds new INVITEs with 503 when its loop thread's CPU share, smoothed
over `busy_window` seconds, passes `max_busy`. Under load a garbage collection
holds the thread for 30-140 ms; a 50 ms window turned each one into shedding.
"""

from __future__ import annotations

import asyncio
from time import thread_time

from sipedge_kit import arun, running_edge

from ivr.transport import smoothed_share


def _spin(seconds: float) -> None:
    """Hold the loop thread on the CPU (as a collection does), not asleep."""
    end = thread_time() + seconds
    while thread_time() < end:
        pass


def test_one_long_pause_on_a_loaded_loop_does_not_shed() -> None:
    async def main() -> None:
        async with running_edge() as edge:
            transport = edge.transport
            assert transport is not None
            loop = asyncio.get_running_loop()
            # 70 % busy for a second: 7 ms of CPU in every 10 ms
            until = loop.time() + 1.0
            while loop.time() < until:
                _spin(0.007)
                await asyncio.sleep(0.003)
            _spin(0.14)  # the longest full collection seen under load
            for _ in range(20):  # 0.2 s more at 70 %: probes run, the average settles
                _spin(0.007)
                await asyncio.sleep(0.003)
            assert transport.overloads["busy"] == 0
            assert transport.admit == 1.0 and not transport.shed_new()
            assert transport.utilisation < transport.max_busy

    arun(main())


def test_the_average_forgives_a_pause_but_not_a_second_of_saturation() -> None:
    at_70 = 0.7
    for _ in range(10):  # 100 ms of probes at 70 %: steady
        at_70 = smoothed_share(at_70, 0.7, 0.01, 0.5)
    assert abs(at_70 - 0.7) < 1e-9
    after_pause = smoothed_share(at_70, 1.0, 0.14, 0.5)  # one probe 140 ms late, all busy
    assert after_pause < 0.9
    saturated = at_70
    for _ in range(120):  # 1.2 s at 100 %
        saturated = smoothed_share(saturated, 1.0, 0.01, 0.5)
    assert saturated > 0.9
    # the probes' spacing does not change the average: one 1.2 s step equals 120 small ones
    assert abs(smoothed_share(at_70, 1.0, 1.2, 0.5) - saturated) < 1e-9
