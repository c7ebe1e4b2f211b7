"""The fuzz harness (tests/fuzz) for a bounded time: FASTTOPK_FUZZ_SECONDS (default 20) under
the seed FASTTOPK_FUZZ_SEED (default: a new one each run, printed, so that a failure can be
replayed with ``python -m tests.fuzz --replay SEED:INDEX``). Cases run in a worker process, so
a crash or hang fails this test instead of killing the suite."""
from __future__ import annotations

import os
import random

from fuzz.runner import supervise


def test_fuzz_public_api():
    seconds = float(os.environ.get("FASTTOPK_FUZZ_SECONDS", "20"))
    seed = int(os.environ.get("FASTTOPK_FUZZ_SEED", random.randrange(100_000)))
    report = supervise(seed, seconds, case_timeout=120)
    print(report.summary())
    assert report.n_cases > 0, report.summary()
    assert not report.failures, report.summary(max_shown=5)
