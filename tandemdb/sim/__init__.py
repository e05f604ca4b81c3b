"""Deterministic simulation of whole clusters of the real ``tandemdb.node.Node`` (with the real KV store and
write-ahead log over a simulated disk): virtual time, one seeded generator, a simulated network and disk,
faults, invariant checks after every step, and a check of the clients' history.

A seed replays the same run event for event: ``tandem sim --seed S --trace FILE``. See docs/simulator.md.
"""
