"""The prompt catalogue: every prompt name a flow may play, with its spoken text.

`ivr/media/prompts/catalog.txt` holds one ``name|text`` per line (``#``
comments). `scripts/make-prompts.sh` turns each line into
``ivr/media/prompts/<name>.wav`` at build time; the loader checks flows
against the names, so a typo in a flow fails at load time, not mid-call.
"""

from __future__ import annotations

from pathlib import Path

from ivr.media.audio import PROMPT_DIR

CATALOGUE = PROMPT_DIR / "catalog.txt"


def read_catalogue(path: Path = CATALOGUE) -> dict[str, str]:
    """Prompt name -> text, in file order."""
    entries: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, text = line.partition("|")
        entries[name.strip()] = text.strip()
    return entries


def catalogue_names(path: Path = CATALOGUE) -> frozenset[str]:
    return frozenset(read_catalogue(path))
