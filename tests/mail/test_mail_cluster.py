"""On a Redis cluster the routing state outlives a node, and now the e-mail's case does too.

Node A leads and runs the SMTP intake; node B follows. A message is accepted
(250) on A and queued in Redis. A stops: B takes the lease and routes the
contact. A starts again on the same data dir, as a follower now: its recovery
asks the leader (B, over the commands stream) about the stored e-mail, finds it
still queued, keeps its id and queues nothing new — and A again serves the
e-mail's body and thread for the desktop and the history.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from pathlib import Path

from cluster_testkit import in_process_node, redis_server, wait_for

from ringway.config import RingwayConfig, load_config_text

LEASE_MS = 1000


def config(redis_url: str, node_id: str, data_dir: Path, smtp: bool) -> RingwayConfig:
    text = f"""
service:
  data_dir: "{data_dir}"
  customer_store: "memory://"
  redis_url: "{redis_url}"
  node_id: {node_id}
  cluster: {{lease_ms: {LEASE_MS}, command_ttl_ms: 4000}}
  smtp_port: {0 if smtp else "null"}
routing:
  entry_points: {{"help@ringway.test": email}}
mail: {{message_id_domain: ringway.test, relay_port: 2}}
skills: [support]
queues:
  - {{name: email, channel: email, requires: "support>=1"}}
agents:
  - {{id: alice, name: Alice Ahmed, skills: {{support: 5}}}}
"""
    return load_config_text(text, f"{node_id}.yaml")


async def send(port: int) -> None:
    message = EmailMessage()
    message["From"] = "Priya Shah <priya.shah@example.org>"
    message["To"] = "help@ringway.test"
    message["Subject"] = "Order #9 is late"
    message["Message-ID"] = "<o9@example.org>"
    message.set_content("Where is order 9?")

    def deliver() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            assert smtp.send_message(message) == {}

    await asyncio.to_thread(deliver)


def test_a_node_restart_keeps_the_contact_id_and_brings_the_body_back(tmp_path: Path) -> None:
    async def main(redis_url: str) -> None:
        a_config = config(redis_url, "na", tmp_path / "na", smtp=True)
        b_config = config(redis_url, "nb", tmp_path / "nb", smtp=False)
        first_a = in_process_node(a_config)
        a = await first_a.__aenter__()
        try:
            await wait_for(lambda: a.node.is_leader, 5, "A to lead")
        except BaseException:
            await first_a.__aexit__(None, None, None)
            raise
        async with in_process_node(b_config) as b:
            try:
                assert not b.node.is_leader
                assert a.bundle.intake is not None and a.bundle.intake.port is not None
                await send(a.bundle.intake.port)
                r = await b.api("GET", "/contacts")  # forwarded to A, the leader
                [contact] = [c for c in r.json()["contacts"] if c["channel"] == "email"]
                contact_id = contact["id"]
                assert a.bundle.mail is not None
                assert a.bundle.mail.view(contact_id) is not None
            finally:
                await first_a.__aexit__(None, None, None)  # the leader stops
            # B takes the lease (the contact is in Redis); A comes back as a follower.
            await wait_for(lambda: b.node.is_leader, LEASE_MS / 1000 + 5, "B to lead")
            async with in_process_node(a_config) as a:
                mail = a.bundle.mail
                assert mail is not None
                await asyncio.wait_for(mail.recovered(), 10)
                assert mail.requeued == []
                case = mail.view(contact_id)
                assert case is not None
                assert [m["text"] for m in case["messages"]] == ["Where is order 9?"]
                assert case["messages"][0]["message_id"] == "<o9@example.org>"
                transcript = mail.transcript(contact_id)
                assert transcript is not None and "Where is order 9?" in transcript
                assert not a.node.is_leader
                r = await b.api("GET", "/contacts")
                emails = [c for c in r.json()["contacts"] if c["channel"] == "email"]
                assert [(c["id"], c["status"]) for c in emails] == [(contact_id, "queued")]

    with redis_server(tmp_path / "redis") as redis:
        asyncio.run(main(redis.url))
