"""Tandem: a replicated, sharded database with Raft consensus."""

__version__ = "0.1.0"
