# Shortcuts for maintainers; the README's two commands work without make.
.PHONY: install test sim sim-long bench-core bench-wal

install:
	python3 -m pip install -e '.[test]'

test: install
	python3 -m pytest -n auto -q

sim:
	tandem sim --seeds 200 --nodes 5 --faults all

sim-long:
	python3 -m pytest -n auto -q -m slow

bench-core:
	python3 -m tandemdb.bench.raft_core

bench-wal:
	python3 -m tandemdb.bench.wal
