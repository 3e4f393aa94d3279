"""STYLE habit 15: the mixer is pure — no asyncio, no clock, no randomness of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MIXER = Path(__file__).resolve().parents[2] / "ivr" / "media" / "mixer.py"


def test_mixer_imports_no_asyncio() -> None:
    code = "import sys; import ivr.media.mixer; print('asyncio' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_mixer_never_reads_the_wall_clock() -> None:
    source = MIXER.read_text()
    assert "import time" not in source and "datetime" not in source
    assert "random" not in source
