"""What every test process gets before any test module imports a2a_cli, numpy or torch.

- pytest-xdist hands its workers COLUMNS=80 and LINES=24, and the CLI honours COLUMNS in a pipe:
  a worker would print its tables 80 columns wide where a plain run prints them whole. Tests that
  want a width set one.
- Under pytest-xdist, one worker per core already keeps every core busy: each worker's own thread
  pools (torch's intra-op threads, OpenMP's, the BLAS's) would only fight the other workers for the
  same cores (EDGE's tests ran ten times slower so). A worker computes on one thread.
- Tests marked `heavy` run first: a parallel run hands them out while light tests remain to fill
  the other workers' time, so that no worker is left with a long test at the end.
"""

import os

for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

if os.environ.get("PYTEST_XDIST_WORKER"):
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(_name, "1")


def pytest_collection_modifyitems(items: list) -> None:
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)  # stable: the rest keep their order
