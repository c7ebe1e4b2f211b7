"""A fuzz harness over fasttopk's public API (issue 7): hostile dtypes, shapes, strides,
alignments, values, k, axis, out, labels and weights; every result checked against NumPy,
SciPy or scikit-learn, every error checked for its class and for naming the argument, every
input checked unchanged. Run by hand: ``python -m tests.fuzz --seconds 600 --seed N``;
``tests/test_fuzz.py`` runs it for FASTTOPK_FUZZ_SECONDS (default 20)."""
