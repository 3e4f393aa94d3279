"""Heaps with lazy deletion: the router's indexes.

Entries are never removed from the middle of a heap. Each entry carries the
version its owner had when it was pushed; when the owner changes it bumps its
version and the stale entry is discarded the next time it reaches the top. A heap
that fills with stale entries is compacted, so memory stays proportional to the
live entries.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from typing import Any

Entry = tuple[Any, ...]  # (*ordering key, version, owner id)


class LazyHeap:
    __slots__ = ("_heap", "_valid")

    def __init__(self, valid: Callable[[Entry], bool]) -> None:
        self._heap: list[Entry] = []
        self._valid = valid

    def push(self, entry: Entry) -> None:
        heapq.heappush(self._heap, entry)

    def push_bounded(self, entry: Entry, limit: int) -> None:
        """`push`, then `compact` past ``limit``: one call on the hot path."""
        heap = self._heap
        heapq.heappush(heap, entry)
        if len(heap) > limit:
            self.compact(limit)

    def peek(self) -> Entry | None:
        """The best live entry, dropping stale ones on the way."""
        heap, valid = self._heap, self._valid
        while heap:
            if valid(heap[0]):
                return heap[0]
            heapq.heappop(heap)
        return None

    def top(self, count: int) -> list[Entry]:
        """Up to ``count`` best live entries, best first (for explanations)."""
        taken: list[Entry] = []
        while len(taken) < count:
            entry = self.peek()
            if entry is None:
                break
            taken.append(heapq.heappop(self._heap))
        for entry in taken:
            heapq.heappush(self._heap, entry)
        return taken

    def compact(self, limit: int) -> None:
        """Drop stale entries once the heap holds more than ``limit``."""
        if len(self._heap) > limit:
            self._heap = [e for e in self._heap if self._valid(e)]
            heapq.heapify(self._heap)

    def __len__(self) -> int:
        return len(self._heap)

    def __iter__(self) -> Iterator[Entry]:
        return (e for e in self._heap if self._valid(e))
