"""Contact ids come from batched `os.urandom` reads: the same shape as before, unique,
not shared with a forked child; StrEnum values read by str() are the values."""

from __future__ import annotations

import os
import re

import pytest

import ringway.service as ids_home  # where the ids are made (compiled)
from crm.lookup import LookupResult, LookupStatus
from crm.model import Customer, Tier
from ringway.service import new_contact_id

ID = re.compile(r"c-[0-9a-f]{16}")


def test_ids_have_the_old_shape_and_do_not_repeat() -> None:
    ids = [new_contact_id() for _ in range(5 * ids_home._IDS_PER_READ + 7)]
    assert all(ID.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)
    # 64 random bits each: the hex digits are spread, not a counter's
    assert len({i[2:4] for i in ids}) > 200


def test_ids_are_read_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    real = os.urandom

    def urandom(n: int) -> bytes:
        reads.append(n)
        return real(n)

    ids_home._ids.clear()
    monkeypatch.setattr(os, "urandom", urandom)  # the module ringway.service reads it from
    for _ in range(2 * ids_home._IDS_PER_READ):
        new_contact_id()
    assert reads == [8 * ids_home._IDS_PER_READ] * 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_reuse_the_parents_ids() -> None:
    new_contact_id()  # the parent holds a batch
    held = set(ids_home._ids)
    assert held
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its first ids and leave at once
        try:
            os.close(reading)
            os.write(writing, " ".join(new_contact_id() for _ in range(20)).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        child = set(pipe.read().split())
    os.waitpid(pid, 0)
    assert len(child) == 20 and not child & held


def test_str_of_the_lookup_enums_is_their_value() -> None:
    for status in LookupStatus:
        assert str(status) == status.value and type(str(status)) is str
    customer = Customer(id="cust-1", name="Ann", tier=Tier.GOLD)
    pop = LookupResult(status=LookupStatus.MATCHED, candidates=(customer,)).to_pop()
    assert pop["status"] == "matched" and type(pop["status"]) is str
    assert pop["tier"] == "gold" and pop["candidates"][0]["tier"] == "gold"
