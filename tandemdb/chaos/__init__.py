"""Tandem's Jepsen-style harness: a real local cluster, nemeses, workloads with a history, checkers, reports.

``tandem chaos`` (``tandemdb.cli.chaos``) drives ``runner.run``; see ``docs/chaos.md``.
"""

from .runner import ChaosConfig, ChaosError, RunResult, run

__all__ = ["ChaosConfig", "ChaosError", "RunResult", "run"]
