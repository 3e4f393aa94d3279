"""The shared media clock: many streams on one loop timer per slot, each keeping
its own 20 ms schedule and its RFC 3550 sequence/timestamp progression."""

from __future__ import annotations

import asyncio
import itertools
import socket
import struct
from collections.abc import Callable

import pytest

from ivr.media.audio import tone
from ivr.media.clock import MediaClock, media_clock
from ivr.media.endpoint import MediaEndpoint
from ivr.media.player import FRAME_SECONDS, Player
from ivr.transport import run


class EarlyTimers(asyncio.AbstractEventLoop):
    """A loop whose timers wake 0.9 ms before their time, as uvloop's whole-millisecond
    timers can: no real loop does that on demand. A real `AbstractEventLoop`: the
    compiled clock checks the type of the loop it is given."""

    def __init__(self) -> None:
        self.now = 100.0
        self.timers: list[tuple[float, Callable[..., object], tuple[object, ...]]] = []

    def time(self) -> float:
        return self.now

    def get_debug(self) -> bool:
        return False

    def call_at(  # type: ignore[override]
        self, when: float, callback: Callable[..., object], *args: object
    ) -> asyncio.TimerHandle:
        self.timers.append((when - 0.0009, callback, args))
        return asyncio.TimerHandle(when, callback, args, self)

    def call_later(  # type: ignore[override]
        self, delay: float, callback: Callable[..., object], *args: object
    ) -> asyncio.TimerHandle:
        self.timers.append((self.now + delay, callback, args))
        return asyncio.TimerHandle(self.now + delay, callback, args, self)

    def run_next(self) -> None:
        self.timers.sort(key=lambda timer: timer[0])
        when, callback, args = self.timers.pop(0)
        self.now = max(self.now, when)
        callback(*args)


def test_a_slot_that_wakes_early_waits_rather_than_send_before_the_deadline() -> None:
    loop = EarlyTimers()
    clock = MediaClock(loop, quantum=0.005)
    ran: list[float] = []
    clock.call_at(100.0123, lambda: ran.append(loop.now))  # slot boundary 100.015
    loop.run_next()  # the loop timer wakes at 100.0141
    assert ran == [] and clock.pending == 1
    loop.run_next()  # 1 ms later: due
    assert ran == [pytest.approx(100.0151)] and clock.fired == 1 and clock.pending == 0


def test_callbacks_never_run_before_their_deadline_and_share_slots() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        clock = MediaClock(loop, quantum=0.005)
        fired: list[tuple[float, float]] = []
        base = loop.time() + 0.05

        def record(when: float) -> Callable[[], None]:
            return lambda: fired.append((when, loop.time()))

        for index in range(40):
            when = base + index * 0.0005  # 40 deadlines over 20 ms
            clock.call_at(when, record(when))
        await asyncio.sleep(0.2)
        assert len(fired) == 40
        assert all(actual >= when - 1e-6 for when, actual in fired)
        assert clock.fired <= 6  # 20 ms / 5 ms slots, +1 for a boundary
        assert clock.pending == 0

    run(main())


def test_a_cancelled_callback_does_not_run_and_a_failing_one_spares_the_rest() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        errors: list[object] = []
        loop.set_exception_handler(lambda _loop, context: errors.append(context["exception"]))
        clock = MediaClock(loop)
        ran: list[str] = []

        def boom() -> None:
            raise RuntimeError("broken stream")

        when = loop.time() + 0.01
        clock.call_at(when, boom)
        clock.call_at(when, lambda: ran.append("b")).cancel()
        clock.call_at(when, lambda: ran.append("c"))
        await asyncio.sleep(0.05)
        assert ran == ["c"]
        assert [str(e) for e in errors] == ["broken stream"]

    run(main())


def test_quantum_must_be_positive() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ValueError, match="quantum"):
            MediaClock(loop, quantum=0)
    finally:
        loop.close()


def test_one_clock_per_loop() -> None:
    async def main() -> None:
        assert media_clock() is media_clock(asyncio.get_running_loop())

    run(main())


def test_due_datagrams_are_the_octets_of_the_packets() -> None:
    moh = tone(425, 130)  # ends mid-frame: the last frame is padded
    by_packet = Player(start=0.0, ssrc=7, codec="PCMA", sequence=65534, timestamp=2**32 - 200)
    by_bytes = Player(start=0.0, ssrc=7, codec="PCMA", sequence=65534, timestamp=2**32 - 200)
    for player in (by_packet, by_bytes):
        player.play(tone(1000, 50))
        player.loop(moh)
    for now in (0.0, 0.05, 0.061, 0.5):  # late ticks catch up several frames
        packets = [p.serialize() for p in by_packet.handle_timer(now)]
        assert by_bytes.due_datagrams(now) == packets and packets
    assert by_packet.next_deadline() == by_bytes.next_deadline()


HEADER = struct.Struct("!BBHII")


def test_many_streams_keep_pacing_sequence_and_timestamps() -> None:
    """200 looping streams for 0.6 s through real UDP: every stream's packets carry
    consecutive sequence numbers and timestamps 160 apart, the marker only on the
    first, and leave within a slot (+ loop slack) of their deadline."""
    streams, seconds = 200, 0.6
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
    sink.setblocking(False)

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        lateness: list[float] = []

        def on_sent(deadline: float, now: float) -> None:
            lateness.append(now - deadline)

        endpoints = []
        for _ in range(streams):
            transport, endpoint = await loop.create_datagram_endpoint(
                lambda: MediaEndpoint(remote=sink.getsockname(), on_sent=on_sent),
                local_addr=("127.0.0.1", 0),
            )
            endpoints.append((transport, endpoint))
        start = loop.time() + 0.05
        moh = tone(425, 1000)
        tasks = []
        for index, (_, endpoint) in enumerate(endpoints):
            player = Player(start=start + FRAME_SECONDS * index / streams, ssrc=index + 1)
            player.loop(moh)
            tasks.append(asyncio.create_task(endpoint.run_player(player)))
        await asyncio.sleep(0.05 + seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for transport, _ in endpoints:
            transport.close()
        assert media_clock().fired < streams * seconds * 50 / 10  # far fewer timers than packets
        return lateness

    lateness = run(main())
    by_ssrc: dict[int, list[tuple[int, int, bool]]] = {}
    while True:
        try:
            data = sink.recv(2048)
        except BlockingIOError:
            break
        first, second, sequence, timestamp, ssrc = HEADER.unpack_from(data)
        assert first == 0x80 and len(data) == 12 + 160
        by_ssrc.setdefault(ssrc, []).append((sequence, timestamp, bool(second & 0x80)))
    sink.close()
    assert len(by_ssrc) == streams
    for packets in by_ssrc.values():
        assert len(packets) >= 0.8 * seconds * 50
        assert [marker for _, _, marker in packets] == [True] + [False] * (len(packets) - 1)
        for (seq0, ts0, _), (seq1, ts1, _) in itertools.pairwise(packets):
            assert seq1 == (seq0 + 1) & 0xFFFF and ts1 == (ts0 + 160) & 0xFFFFFFFF
    lateness.sort()
    assert lateness[0] >= -1e-6  # never before the deadline
    assert lateness[len(lateness) // 2] < 0.020  # median well inside a frame
