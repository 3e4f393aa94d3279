#!/usr/bin/env python3
"""Container entrypoint: render the node's config from a shared template, then run the command.

One config file serves every node of docker/compose.yaml; what differs per node
(its id, its event-log database) comes from the container's environment. With
``RINGWAY_CONFIG_TEMPLATE`` set, ``${NAME}`` and ``${NAME:-default}`` in that
file are replaced from the environment and the result written to
``RINGWAY_CONFIG`` (default ``/tmp/ringway.yaml``), which the command then
reads. A name that is unset and has no default stops the container with one
line naming it, rather than starting a node with a half-empty setting.
Without ``RINGWAY_CONFIG_TEMPLATE`` the command runs as given.

Only ``${...}`` is expanded: a bare ``$`` (a password hash, a regex) stays as is.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping

DEFAULT_OUTPUT = "/tmp/ringway.yaml"
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MissingVariable(LookupError):
    pass


def render(text: str, env: Mapping[str, str]) -> str:
    """``text`` with every ``${NAME}`` / ``${NAME:-default}`` replaced from ``env``."""

    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = env.get(name)
        if found:
            return found
        if default is not None:
            return default
        raise MissingVariable(name)

    return _REFERENCE.sub(value, text)


def main(argv: list[str], env: Mapping[str, str]) -> int:
    template = env.get("RINGWAY_CONFIG_TEMPLATE")
    if template:
        output = env.get("RINGWAY_CONFIG", DEFAULT_OUTPUT)
        try:
            with open(template, encoding="utf-8") as source:
                rendered = render(source.read(), env)
        except MissingVariable as exc:
            print(f"error: {template}: ${{{exc.args[0]}}} is not set", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"error: cannot read {template}: {exc.strerror}", file=sys.stderr)
            return 2
        with open(output, "w", encoding="utf-8") as target:
            target.write(rendered)
    if not argv:
        print("error: no command to run", file=sys.stderr)
        return 2
    os.execvp(argv[0], argv)  # replaces this process: docker stop's SIGTERM reaches ringway


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
