"""What the tests and the benchmarks share, in one home that both import (neither imports the other).

- `metrics_baseline`: the per-frame statement of the metrics (FK, BAS, PFC, validity, kinetic and
  geometric features), written independently of `a2a_cli.scoring`: the tests check the library
  against it, and `benchmarks/bench_metrics.py` measures the library's speed against it.
- `dances`: dances built in code (plausible, static, looped, shifted) with known properties.
- `subnet_helpers`: wallets, a local chain, a running miner and HTTP helpers for the subnet.
- `attack`: keyless pressure on one miner (slow bodies, idle and slowloris connections).

A top-level folder, not a module of `a2a_cli`: it is test equipment, never shipped to users (the
wheel packages `a2a_cli*` only). pytest puts the repo root on `sys.path` (pyproject's
`pythonpath`); each benchmark puts it there itself, since it runs as a script.
"""
