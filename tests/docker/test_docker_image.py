"""docker/Dockerfile and its entrypoint, checked without building (no Docker engine here).

A small linter reads the Dockerfile's instructions: the base image, COPY sources
that exist and are not excluded from the build context, every package the wheel
needs, a non-root USER, one port everywhere (EXPOSE, CMD, HEALTHCHECK), the
ringway CLI as the command. The two pieces of it that execute are run for real:
the HEALTHCHECK command against a live ``ringway serve``, and the entrypoint.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from peer_kit import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in (DOCKER / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, args = whole.partition(" ")
        found.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def args_of(keyword: str) -> list[str]:
    return [args for kw, args in instructions() if kw == keyword]


def exec_form(args: str) -> list[str]:
    parsed: list[str] = json.loads(args)  # exec form: no shell between docker and the process
    return parsed


def ignored(path: str) -> bool:
    patterns = [
        p.strip()
        for p in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    return any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in patterns)


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_base_image_and_a_single_stage() -> None:
    assert args_of("FROM") == ["python:3.11-slim"]


def test_every_copy_source_exists_in_the_context_and_is_not_ignored() -> None:
    copies = args_of("COPY")
    assert copies
    for args in copies:
        *sources, _dest = args.split()
        for source in sources:
            assert not source.startswith("--"), f"unchecked COPY flag in {args!r}"
            assert (ROOT / source).exists(), f"COPY {source}: not in the build context"
            assert not ignored(source), f"COPY {source}: excluded by Dockerfile.dockerignore"


def packages() -> set[str]:
    """The top-level packages pyproject.toml puts in the wheel."""
    setuptools = pyproject()["tool"]["setuptools"]  # type: ignore[index]
    return {pattern.rstrip("*") for pattern in setuptools["packages"]["find"]["include"]}


def test_every_package_the_wheel_includes_is_copied() -> None:
    wanted = packages()
    copied = {args.split()[0] for args in args_of("COPY")}
    assert wanted <= copied, f"packages never copied: {wanted - copied}"
    assert {"pyproject.toml", "README.md"} <= {s for a in args_of("COPY") for s in a.split()[:-1]}


def test_the_copied_files_build_a_wheel_with_every_package_and_the_cli(tmp_path: Path) -> None:
    # Replays the image's COPY ... /src/ steps into a directory and builds what
    # `pip install /src` would install: a file the build needs but no COPY brings fails here.
    staged = tmp_path / "src"
    for args in args_of("COPY"):
        *sources, dest = args.split()
        if not dest.startswith("/src/"):
            continue
        for source in sources:
            target = staged / dest.removeprefix("/src/")
            target = target / source if dest.endswith("/") else target
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / source, target)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(staged), "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("ringway-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    for package in packages():
        assert f"{package}/__init__.py" in names
    assert "ringway/demo.yaml" in names  # `ringway serve` with no --config reads it
    # What the code loads through importlib.resources must ship (package-data).
    loaded = {
        (match[0], match[1])
        for package in packages()
        for source in (ROOT / package).rglob("*.py")
        for match in re.findall(r'resources\.files\("(\w+)"\)\s*/\s*"([^"]+)"', source.read_text())
    }
    data = {
        str(path.relative_to(ROOT))
        for package, name in loaded
        for path in [ROOT / package / name, *(ROOT / package / name).rglob("*")]
        if path.is_file()
    }
    assert "ringway/demo.yaml" in data  # the scan finds what it should
    assert data <= names, f"not in the wheel (add to package-data): {sorted(data - names)}"
    assert re.search(r"^ringway = ringway\.cli:main$", scripts, re.MULTILINE)


def test_it_runs_as_a_non_root_user() -> None:
    sequence = instructions()
    users = [i for i, (kw, _) in enumerate(sequence) if kw == "USER"]
    assert users, "no USER: the service would run as root"
    last_user = sequence[users[-1]][1]
    assert last_user not in {"root", "0"} and not last_user.startswith("0:")
    starts = [i for i, (kw, _) in enumerate(sequence) if kw in {"CMD", "ENTRYPOINT"}]
    assert min(starts) > users[-1]
    created = " ".join(args_of("RUN"))
    assert re.search(rf"useradd .*\b{re.escape(last_user)}\b", created)


def test_one_port_in_expose_cmd_and_healthcheck() -> None:
    (exposed,) = args_of("EXPOSE")
    command = exec_form(args_of("CMD")[-1])
    assert command[:2] == ["ringway", "serve"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--http-port") + 1] == exposed
    (check,) = args_of("HEALTHCHECK")
    assert re.search(rf"http://127\.0\.0\.1:{exposed}/healthz\b", check)
    assert "ringway" in pyproject()["project"]["scripts"]  # type: ignore[index,operator]


def test_the_entrypoint_is_the_copied_script() -> None:
    entry = exec_form(args_of("ENTRYPOINT")[-1])
    destinations = {args.split()[-1]: args.split()[0] for args in args_of("COPY")}
    assert entry[0] == "python" and destinations[entry[1]] == "docker/entrypoint.py"


# -------------------------------------------------- what runs, run for real


def healthcheck_command(port: int) -> list[str]:
    (check,) = args_of("HEALTHCHECK")
    command = exec_form(check[check.index("CMD") + 3 :].strip())
    assert command[0] == "python"
    return [sys.executable, *(arg.replace(":8080/", f":{port}/") for arg in command[1:])]


MINIMAL = """
service: {{data_dir: "{data_dir}", customer_store: "memory://"}}
skills: [support]
queues: [{{name: support, channel: voice, requires: support}}]
"""


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[int]:
    config = tmp_path / "ringway.yaml"
    config.write_text(MINIMAL.format(data_dir=tmp_path / "var"))
    port = free_port()
    argv = [sys.executable, "-m", "ringway.cli", "serve", "--config", str(config)]
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*argv, "--host", "127.0.0.1", "--http-port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        assert server.poll() is None, f"ringway serve exited:\n{log.read_text()[-2000:]}"
        yield port
    finally:
        server.terminate()
        server.wait(10)


def test_the_healthcheck_command_passes_on_a_live_node_and_fails_on_a_dead_one(
    serving: int,
) -> None:
    alive = subprocess.run(healthcheck_command(serving), capture_output=True, timeout=10)
    assert alive.returncode == 0, alive.stderr
    dead = subprocess.run(healthcheck_command(free_port()), capture_output=True, timeout=10)
    assert dead.returncode != 0


def run_entrypoint(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DOCKER / "entrypoint.py"), *command],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], **env},
        timeout=30,
    )


def test_the_entrypoint_renders_the_template_then_runs_the_command(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text("id: ${NODE}\nlog: ${DB:-events}\nhash: $argon2$keep\n")
    output = tmp_path / "out.yaml"
    env = {"RINGWAY_CONFIG_TEMPLATE": str(template), "RINGWAY_CONFIG": str(output), "NODE": "a"}
    read_back = f"import sys; sys.stdout.write(open({str(output)!r}).read())"
    done = run_entrypoint(env, sys.executable, "-c", read_back)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "id: a\nlog: events\nhash: $argon2$keep\n"


def test_the_entrypoint_stops_on_an_unset_variable_with_one_line(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text("id: ${RINGWAY_NODE_ID}\n")
    env = {"RINGWAY_CONFIG_TEMPLATE": str(template), "RINGWAY_CONFIG": str(tmp_path / "o.yaml")}
    done = run_entrypoint(env, "true")
    assert done.returncode == 2
    assert done.stderr == f"error: {template}: ${{RINGWAY_NODE_ID}} is not set\n"
    assert not (tmp_path / "o.yaml").exists()


def test_the_entrypoint_without_a_template_just_runs_the_command(tmp_path: Path) -> None:
    done = run_entrypoint({}, sys.executable, "-c", "print('ran')")
    assert (done.returncode, done.stdout) == (0, "ran\n")
