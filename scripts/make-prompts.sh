#!/usr/bin/env bash
# Speak every prompt of ivr/media/prompts/catalog.txt (name|text lines) with espeak-ng
# into ivr/media/prompts/<name>.wav: 8 kHz mono 16-bit PCM, the G.711 clock rate
# (RFC 3551 §4.5.14), resampled by sox with its anti-aliasing filter.
# Idempotent and quick when present: a prompt is remade only when its WAV is missing or
# older than the catalogue. The WAVs are build output (git-ignored), never committed.
# PROMPT_DIR / PROMPT_CATALOG / PROMPT_VOICE override the defaults (the tests use them).
set -euo pipefail
cd "$(dirname "$0")/.."

DIR="${PROMPT_DIR:-ivr/media/prompts}"
CATALOG="${PROMPT_CATALOG:-ivr/media/prompts/catalog.txt}"
VOICE="${PROMPT_VOICE:-en-us}"

for tool in espeak-ng sox; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "make-prompts: $tool is missing (scripts/install-peers.sh installs it)" >&2
    exit 2
  fi
done
[ -f "$CATALOG" ] || { echo "make-prompts: no catalogue at $CATALOG" >&2; exit 2; }
mkdir -p "$DIR"

work="$(mktemp -d "${TMPDIR:-/tmp}/make-prompts.XXXXXX")"
trap 'rm -rf "$work"' EXIT

made=0
while IFS='|' read -r name text || [ -n "$name" ]; do
  name="${name//[[:space:]]/}"
  [[ -z "$name" || "$name" == \#* ]] && continue
  if [[ ! "$name" =~ ^[a-z0-9_]+$ || -z "$text" ]]; then
    echo "make-prompts: $CATALOG: bad line for '$name' (want name|text, name in a-z0-9_)" >&2
    exit 2
  fi
  out="$DIR/$name.wav"
  [[ -f "$out" && "$out" -nt "$CATALOG" ]] && continue
  espeak-ng -v "$VOICE" -s 150 -w "$work/raw.wav" "$text"
  sox -q "$work/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$work/out.wav"
  mv -f "$work/out.wav" "$out"  # atomic: a reader never sees half a prompt
  made=$((made + 1))
done < "$CATALOG"
echo "make-prompts: $made prompt(s) made in $DIR" >&2
