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
