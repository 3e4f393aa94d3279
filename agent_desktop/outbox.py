"""A session's numbered frames: what makes resume lose and repeat nothing.

Every frame the server means (state, offers, replies, errors) gets the next
``seq`` of its session — 1, 2, 3… with no gaps — and the newest ``keep`` are
kept. A client that reconnects says the last ``seq`` it saw and is sent exactly
the frames after it; if those have already been dropped, the server says so and
sends a fresh snapshot instead, never a stream with a hole in it.

Frames are stored as finished JSON text. A body is serialised once per event
and each recipient only splices its own ``seq`` in front, so a fan-out to many
sessions costs one ``orjson.dumps``.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import orjson


def body(frame: dict[str, Any]) -> str:
    """A frame's JSON text without ``seq`` (a non-empty object), ready for `Outbox.append`."""
    return orjson.dumps(frame).decode()


class Outbox:
    __slots__ = ("_frames", "last_seq")

    def __init__(self, keep: int) -> None:
        self._frames: deque[tuple[int, str]] = deque(maxlen=keep)
        self.last_seq = 0

    def append(self, frame_body: str) -> int:
        """Number ``frame_body`` (from `body`) and keep it; returns its seq."""
        seq = self.last_seq = self.last_seq + 1
        self._frames.append((seq, f'{{"seq":{seq},{frame_body[1:]}'))
        return seq

    @property
    def first_seq(self) -> int:
        """The oldest seq still kept (``last_seq + 1`` when none is)."""
        return self._frames[0][0] if self._frames else self.last_seq + 1

    def can_resume(self, seq: int) -> bool:
        """True when every frame after ``seq`` is still here."""
        return self.first_seq - 1 <= seq <= self.last_seq

    def after(self, seq: int) -> list[tuple[int, str]] | None:
        """The frames after ``seq``, oldest first; None when some are gone."""
        if not self.can_resume(seq):
            return None
        count = self.last_seq - seq
        frames, size = self._frames, len(self._frames)
        # Indexing from the right end: the writer is usually a frame or two behind.
        return [frames[i] for i in range(size - count, size)]
