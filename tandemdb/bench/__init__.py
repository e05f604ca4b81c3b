"""Benchmarks: tools run by hand (``python -m tandemdb.bench.<name>``), never timed tests. They report ratios
against a baseline measured in the same run, because absolute numbers depend on the machine."""
