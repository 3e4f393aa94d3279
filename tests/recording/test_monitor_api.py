"""``POST/DELETE /contacts/{id}/monitor``: the checks the API makes before the driver acts.

The SIP side of monitoring is the telephony driver's (it rings the supervisor's
extension and runs an `ivr.media.conference.Conference`); here an in-memory
`CallControl` stands in for it, so only the API's behaviour is under test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivr.media.mixer import MixMode
from ringway.monitoring import (
    CallControl,
    ExtensionUnavailable,
    MonitorSession,
    NotMonitored,
)

if TYPE_CHECKING:
    from conftest import Api, Run


class FakeCallControl:
    """Bridged calls as a set; monitoring sessions as a dict."""

    def __init__(self) -> None:
        self.bridged: set[str] = set()
        self.sessions: dict[str, MonitorSession] = {}
        self.registered = {"2001"}

    def is_bridged(self, contact_id: str) -> bool:
        return contact_id in self.bridged

    async def monitor(self, contact_id: str, extension: str, mode: MixMode) -> MonitorSession:
        if extension not in self.registered:
            raise ExtensionUnavailable(f"extension {extension} has no registered phone")
        session = MonitorSession(
            contact_id=contact_id, supervisor_extension=extension, mode=mode, started_at=1.0
        )
        self.sessions[contact_id] = session
        return session

    async def stop_monitor(self, contact_id: str) -> None:
        if self.sessions.pop(contact_id, None) is None:
            raise NotMonitored(f"nobody monitors contact {contact_id}")


def error_code(body: dict[str, dict[str, str]]) -> str:
    return body["error"]["code"]


async def monitor_flow(api: Api) -> None:
    cid = await api.connected_call("support")
    listen = {"mode": "listen", "extension": "2001"}
    path = f"/contacts/{cid}/monitor"

    off = await api.json("POST", path, json=listen, expect=503)
    assert error_code(off) == "telephony_unavailable"

    fake = FakeCallControl()
    control: CallControl = fake  # the protocol the telephony driver implements
    api.calls.call_control = control
    not_yet = await api.json("POST", path, json=listen, expect=409)
    assert error_code(not_yet) == "not_bridged"  # the router says connected, SIP does not

    fake.bridged.add(cid)
    started = await api.json("POST", path, json=listen)
    assert started["monitor"] == {
        "contact_id": cid,
        "extension": "2001",
        "mode": "listen",
        "started_at": 1.0,
    }
    barge = await api.json("POST", path, json={"mode": "barge", "extension": "2001"})
    assert barge["monitor"]["mode"] == "barge" and fake.sessions[cid].mode is MixMode.BARGE

    nobody = await api.json("POST", path, json={"mode": "whisper", "extension": "9999"}, expect=409)
    assert error_code(nobody) == "extension_unavailable"
    assert fake.sessions[cid].mode is MixMode.BARGE  # a refused switch changes nothing

    await api.json("DELETE", path, expect=204)
    assert fake.sessions == {}
    again = await api.json("DELETE", path, expect=404)
    assert error_code(again) == "not_monitored"

    for body in ({"mode": "shout", "extension": "2001"}, {"mode": "listen"}, {"extension": "a b"}):
        bad = await api.json("POST", path, json=body, expect=422)
        assert error_code(bad) == "invalid_request"
    assert (await api.json("POST", path, "alice", json=listen, expect=403))["error"]
    assert (await api.json("DELETE", path, None, expect=401))["error"]
    assert fake.sessions == {}


def test_supervisor_monitors_a_bridged_call_through_call_control(run_api: Run) -> None:
    run_api(monitor_flow)


async def only_bridged_voice_calls(api: Api) -> None:
    fake = FakeCallControl()
    api.calls.call_control = fake
    listen = {"mode": "listen", "extension": "2001"}

    missing = await api.json("POST", "/contacts/c-nope/monitor", json=listen, expect=404)
    assert error_code(missing) == "unknown_contact"

    # wrap-up: the caller has gone
    cid = await api.connected_call("support")
    fake.bridged.add(cid)
    await api.json("POST", f"/contacts/{cid}/end")
    ended = await api.json("POST", f"/contacts/{cid}/monitor", json=listen, expect=409)
    assert "wrap_up" in ended["error"]["message"]

    # queued (alice is wrapping up, bob is logged out): not bridged, whatever the driver says
    body = {"channel": "voice", "queue": "support", "origin": "+12025550100"}
    queued = await api.json("POST", "/contacts", "admin", json=body, expect=201)
    fake.bridged.add(queued["id"])
    refused = await api.json("POST", f"/contacts/{queued['id']}/monitor", json=listen, expect=409)
    assert error_code(refused) == "not_bridged" and "queued" in refused["error"]["message"]

    chat = await api.json("POST", "/contacts", "admin", json={"channel": "chat"}, expect=201)
    fake.bridged.add(chat["id"])
    refused = await api.json("POST", f"/contacts/{chat['id']}/monitor", json=listen, expect=409)
    assert "chat contact" in refused["error"]["message"]

    assert fake.sessions == {}


def test_only_a_connected_voice_call_can_be_monitored(run_api: Run) -> None:
    run_api(only_bridged_voice_calls)
