"""Side-by-side benchmarks of fasttopk against NumPy, SciPy, scikit-learn, PyTorch, and JAX and
torchmetrics when installed.

Run from the repository root: ``python -m benchmarks.run`` (``make bench`` does exactly that).
``python -m benchmarks.run --help`` lists the options; ``--quick`` is a short development run.

Modules:
    run        the command line, the loop over shapes / thread counts / kernels
    machine    the machine, the versions and the thread settings a run records
    cases      what is timed: each kernel's contenders and the check that they agree
    optional_peers  JAX and torchmetrics, timed when installed
    timing     interleaved timing (median of runs) and the tracemalloc peak of one call
    bandwidth  the machine's read bandwidth, measured without any contender's code
    report     the Markdown table and the acceptance targets
    chart      the chart: the spread of per-round speed-ups, one panel per kernel
    summary    the README's compact table (median speed-up per kernel and peer)
    publish    copies a clean run into benchmarks/results/ and the README
    scaling    thread scaling: every kernel at 1, 2, 4, ... threads (``python -m benchmarks.scaling``)
    dask_bench top-k accuracy over a score file larger than memory (``make bench-dask``)
"""

import os

# Contenders run alternately in one process. OpenMP's default is to keep worker threads
# spinning after a parallel region, which would steal the cores from whichever contender runs
# next (fasttopk's pool, like this, sleeps between calls); so every pool sleeps when idle. Set
# before torch is imported, which is when its OpenMP runtime reads it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

