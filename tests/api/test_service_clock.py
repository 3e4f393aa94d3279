"""The service's clock never goes backwards (an NTP step): the core and the StatsBook
assume it. `_clock_now` hands back a new reading as it is, an earlier one as the last."""

from __future__ import annotations

from pathlib import Path

from conftest import config_in

from crm.memory import MemoryCustomerStore
from ringway.service import RoutingService


def test_now_follows_the_clock_forward_and_holds_when_it_steps_back(tmp_path: Path) -> None:
    readings = iter([10.0, 12.5, 11.0, 12.5, 13.0])
    service = RoutingService(
        config_in(tmp_path), MemoryCustomerStore(), clock=lambda: next(readings)
    )
    assert [service.now() for _ in range(5)] == [10.0, 12.5, 12.5, 12.5, 13.0]
