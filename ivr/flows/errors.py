"""The flow package's one exception: a located problem in a flow file."""

from __future__ import annotations


class FlowError(ValueError):
    """``file:line: key: problem``, the same shape as `ringway.config.ConfigError`."""

    def __init__(self, source: str, line: int | None, key: str, problem: str) -> None:
        self.source, self.line, self.key, self.problem = source, line, key, problem
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")
