"""The dialer's exception tree: every user-caused problem is a `DialerError` with one line."""

from __future__ import annotations


class DialerError(ValueError):
    """Bad input to the dialer (a campaign file, a number, a list); the message is one line."""


class CampaignError(DialerError):
    """A campaign file problem, located as ``file:line: key: problem``."""

    def __init__(self, source: str, line: int | None, key: str, problem: str) -> None:
        self.source, self.line, self.key, self.problem = source, line, key, problem
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


class InvalidNumber(DialerError):
    """A phone number that cannot be read as E.164."""


class NotAllowed(DialerError):
    """An attempt recorded against a verdict that did not allow it."""
