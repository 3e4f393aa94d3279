"""STYLE habit 15: the pure media core imports no asyncio and reads no clock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PURE = ["rtp", "g711", "dtmf", "player", "recorder", "relay", "audio", "pcap", "errors"]
MEDIA = Path(__file__).resolve().parents[2] / "ivr" / "media"


def test_pure_modules_import_no_asyncio() -> None:
    imports = "; ".join(f"import ivr.media.{name}" for name in PURE)
    code = f"import sys; {imports}; print('asyncio' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_pure_modules_never_read_the_wall_clock() -> None:
    for name in PURE:
        source = (MEDIA / f"{name}.py").read_text()
        assert "import time" not in source and "datetime" not in source, name
        assert "random" not in source, name
