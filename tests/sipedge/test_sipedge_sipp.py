"""The edge against real sipp: REGISTER with digest, OPTIONS, calls on UDP/TCP, 481."""

from __future__ import annotations

from pathlib import Path

from peer_kit import needs_sipp
from sipedge_kit import arun, register_xml, running_edge, single_xml, sipp

pytestmark = needs_sipp


def _scenario(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_register_digest_challenge_then_200(tmp_path: Path) -> None:
    """RFC 3261 §10.3 / §22.4: 401 with a challenge, then 200 listing the Contact."""

    async def main() -> None:
        async with running_edge() as edge:
            xml = _scenario(tmp_path, "reg.xml", register_xml(200))
            result = await sipp(
                edge, tmp_path, "-sf", xml, "-s", "1001", "-au", "1001", "-ap", "s3cret", "-m", "1"
            )
            assert result.code == 0, result.output[-2000:]
            assert edge.registrar.contacts_for("1001", edge.now())
            log = (tmp_path / "sipp_msg.log").read_text()
            assert "WWW-Authenticate: Digest" in log
            assert ";expires=120" in log  # §10.3 step 8: the 200 lists the binding

    arun(main())


def test_register_wrong_password_is_challenged_again(tmp_path: Path) -> None:
    """A wrong digest is not a registration: a fresh 401, no binding (§22.4)."""

    async def main() -> None:
        async with running_edge() as edge:
            xml = _scenario(tmp_path, "reg401.xml", register_xml(401))
            result = await sipp(
                edge, tmp_path, "-sf", xml, "-s", "1001", "-au", "1001", "-ap", "nope", "-m", "1"
            )
            assert result.code == 0, result.output[-2000:]
            assert edge.registrar.contacts_for("1001", edge.now()) == []

    arun(main())


def test_register_failure_flood_gets_403(tmp_path: Path) -> None:
    """After the FailureLimiter's burst, the same source is refused with 403."""

    async def main() -> None:
        async with running_edge() as edge:
            source = "127.0.0.1"
            for _ in range(10):
                edge.registrar.auth.limiter.record_failure(source, edge.now())
            xml = _scenario(tmp_path, "reg403.xml", single_xml("REGISTER", 403))
            result = await sipp(edge, tmp_path, "-sf", xml, "-s", "1001", "-m", "1")
            assert result.code == 0, result.output[-2000:]

    arun(main())


def test_options_200_with_allow(tmp_path: Path) -> None:
    """§11.2: OPTIONS is answered 200 with Allow and Accept."""

    async def main() -> None:
        async with running_edge() as edge:
            xml = _scenario(tmp_path, "options.xml", single_xml("OPTIONS", 200))
            result = await sipp(edge, tmp_path, "-sf", xml, "-s", "ringway", "-m", "3")
            assert result.code == 0, result.output[-2000:]
            log = (tmp_path / "sipp_msg.log").read_text()
            assert "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, REFER, NOTIFY" in log
            assert "Accept: application/sdp" in log

    arun(main())


def test_bye_for_unknown_dialog_gets_481(tmp_path: Path) -> None:
    """§12.2.2: a request with a To tag matching no dialog is answered 481."""

    async def main() -> None:
        async with running_edge() as edge:
            xml = _scenario(tmp_path, "bye.xml", single_xml("BYE", 481, to_tag="nosuchdialog"))
            result = await sipp(edge, tmp_path, "-sf", xml, "-s", "ringway", "-m", "1")
            assert result.code == 0, result.output[-2000:]

    arun(main())


def _uac(*extra: str) -> tuple[str, ...]:
    return ("-sn", "uac", "-s", "ringway", "-r", "50", "-d", "200", *extra)


def test_uac_calls_over_udp(tmp_path: Path) -> None:
    """INVITE → 100/180/200 → ACK → BYE → 200 (§13, §15), 0 failed calls."""

    async def main() -> None:
        async with running_edge() as edge:
            result = await sipp(edge, tmp_path, *_uac("-m", "100"))
            assert result.code == 0, result.output[-2000:]
            assert (result.stat("Successful call"), result.stat("Failed call")) == (100, 0)
            assert len(edge.dialogs) == 0 and len(edge.calls) == 0

    arun(main())


def test_uac_calls_with_5_percent_loss_all_complete(tmp_path: Path) -> None:
    """Retransmissions (§17.2.1, and the 2xx until the ACK, §13.3.1.4) cover 5 % loss."""

    async def main() -> None:
        async with running_edge() as edge:
            result = await sipp(edge, tmp_path, *_uac("-m", "60", "-lost", "5", "-t", "u1"))
            assert result.code == 0, result.output[-2000:]
            assert (result.stat("Successful call"), result.stat("Failed call")) == (60, 0)

    arun(main())


def test_uac_calls_over_tcp(tmp_path: Path) -> None:
    """§18.2.2: responses go back on the connection the request came in on."""

    async def main() -> None:
        async with running_edge() as edge:
            result = await sipp(edge, tmp_path, *_uac("-m", "50", "-t", "t1"))
            assert result.code == 0, result.output[-2000:]
            assert (result.stat("Successful call"), result.stat("Failed call")) == (50, 0)

    arun(main())
