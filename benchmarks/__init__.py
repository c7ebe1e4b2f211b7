"""Side-by-side benchmarks of fasttopk against NumPy, SciPy, scikit-learn and PyTorch.

Run from the repository root: ``python -m benchmarks.run`` (``make bench`` does exactly that).
``python -m benchmarks.run --help`` lists the options; ``--quick`` is a short development run.

Modules:
    run        the command line, the loop over shapes / thread counts / kernels
    cases      what is timed: each kernel's contenders and the check that they agree
    timing     interleaved timing (median of runs) and the tracemalloc peak of one call
    bandwidth  the machine's read bandwidth, measured without any contender's code
    report     the Markdown table, the JSON file, the chart, the README region, the targets
"""

import os

# Contenders run alternately in one process. OpenMP's default is to keep worker threads
# spinning after a parallel region, which would steal the cores from whichever contender runs
# next (fasttopk's pool, like this, sleeps between calls); so every pool sleeps when idle. Set
# before torch is imported, which is when its OpenMP runtime reads it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
