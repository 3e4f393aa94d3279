"""The compliance layer: DNC, consent, calling windows and attempt caps, with proofs.

Public API for the live driver and the pacer: `Compliance` (``check``,
``attempt``, ``record_attempt``, ``record_outcome``), `Verdict`, `Proof`,
`CheckResult`. Each rule lives in its own module, with its legal source cited.
"""

from __future__ import annotations

from dialer.compliance.engine import Compliance
from dialer.compliance.proof import CheckResult, Proof, Result, Verdict

__all__ = ["CheckResult", "Compliance", "Proof", "Result", "Verdict"]
