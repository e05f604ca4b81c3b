"""Deterministic simulation of whole Raft clusters: virtual time, one seeded generator, a simulated network and
disk, faults, invariant checks after every step, and a linearizability check of the clients' history.

A seed replays the same run event for event: ``tandem sim --seed S --trace FILE``.
"""
