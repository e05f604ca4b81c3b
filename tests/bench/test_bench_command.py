"""Smoke tests of ``tandem bench``: real clusters for two seconds, checking the JSON shape and that the plots
exist (benchmarks, not timed tests: no assertion on a number)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("psutil", reason="the bench extras are not installed (pip install 'tandemdb[bench]')")
pytest.importorskip("matplotlib", reason="the bench extras are not installed (pip install 'tandemdb[bench]')")

FIELDS = {"system", "workload", "clients", "throughput", "p50_ms", "p99_ms", "p999_ms", "server_cpu_s_per_1k",
          "client_cpu_s_per_1k"}


def run_bench(tmp_path: Path, system: str, *options: str) -> dict:
    out = tmp_path / "results.json"
    cmd = [sys.executable, "-m", "tandemdb.cli.main", "bench", "--workload", "write", "--clients", "1,4",
           "--duration", "2s", "--systems", system, "--json", str(out), "--data-dir", str(tmp_path), *options]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "results" in proc.stdout
    for plot in ("results-throughput.png", "results-latency-cdf.png"):
        assert (tmp_path / plot).stat().st_size > 0
    return json.loads(out.read_text())


def check_shape(data: dict, system: str) -> None:
    assert [(r["system"], r["workload"], r["clients"]) for r in data["results"]] == [
        (system, "write", 1), (system, "write", 4)
    ]
    for row in data["results"]:
        assert FIELDS <= row.keys()
        assert row["throughput"] > 0
        assert row["p50_ms"] <= row["p99_ms"] <= row["p999_ms"]
    assert {"cpu", "cores", "filesystem", "versions"} <= data["machine"].keys()
    assert system in data["machine"]["versions"]


def test_tandem(tmp_path: Path) -> None:
    check_shape(run_bench(tmp_path, "tandem"), "tandem")


NO_ETCD = pytest.mark.skipif(shutil.which("etcd") is None,
                             reason="etcd is not installed (Debian: apt-get install etcd-server)")


@NO_ETCD
def test_etcd_from_python(tmp_path: Path) -> None:
    pytest.importorskip("aetcd", reason="the bench extras are not installed (pip install 'tandemdb[bench]')")
    data = run_bench(tmp_path, "etcd", "--python-clients")
    check_shape(data, "etcd")
    assert "grpc" in data["results"][0]["client"]


@pytest.mark.slow  # the first run builds the Go load generator (about a minute)
@NO_ETCD
def test_etcd_from_go(tmp_path: Path) -> None:
    from tandemdb.bench.systems.etcd import EtcdSystem

    if EtcdSystem(tmp_path).native_loadgen() is None:
        pytest.skip("Go or Debian's golang-etcd-server-dev is not installed")
    data = run_bench(tmp_path, "etcd")
    check_shape(data, "etcd")
    assert "clientv3" in data["results"][0]["client"]
