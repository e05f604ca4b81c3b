"""Runs many simulator seeds, in parallel worker processes when asked, for ``tandem sim``.

Kept out of ``tandemdb.sim``, which holds only deterministic single-process code: each seed runs alone in one
worker, and the results come back in seed order whatever order the workers finish in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from ..sim.simulation import SimConfig, SimResult, run_seed


def run_seeds(configs: list[SimConfig], jobs: int = 1, stop_on_failure: bool = False) -> Iterator[SimResult]:
    """Yield results in seed order; with ``stop_on_failure`` stop after the first failing seed."""
    if jobs <= 1:
        for cfg in configs:
            r = run_seed(cfg)
            yield r
            if stop_on_failure and not r.ok:
                return
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_seed, cfg) for cfg in configs]
        try:
            for f in futures:
                r = f.result()
                yield r
                if stop_on_failure and not r.ok:
                    return
        finally:
            for f in futures:
                f.cancel()


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)
