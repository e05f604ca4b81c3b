"""Counters a replica keeps for the shell's metrics: plain ints, bumped where things happen. The core reads no
clock, so durations (fsync, apply, snapshot, request latency) are timed by the shell around its own calls."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class GroupStats:
    leader_changes: int = 0  # times this replica learned of a new leader (not counting "no leader")
    proposals_failed: int = 0  # client writes and member changes refused, overwritten or not committed in time
    snapshots_saved: int = 0
    snapshots_installed: int = 0  # snapshots received from a leader
