"""A pytest plugin for the sanitizer pass (tests/sanitize/run.sh): caps every hypothesis test
at FASTTOPK_SANITIZE_EXAMPLES examples (default 25), whatever its own @settings asks, so the
suite fits CI's time under ASan on every ISA. The full example counts run in the plain pass.
Health checks on speed and filtering are off here: with so few examples, a strategy that
filters much fails filter_too_much (seen: test_topk.py::test_property_floats_without_nan),
and everything is slower under ASan; neither says anything about memory or UB."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings


def pytest_collection_modifyitems(config, items):
    budget = int(os.environ.get("FASTTOPK_SANITIZE_EXAMPLES", "25"))
    for item in items:
        test = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if own is not None:
            relaxed = set(own.suppress_health_check) | {HealthCheck.too_slow, HealthCheck.filter_too_much}
            test._hypothesis_internal_use_settings = settings(
                own, max_examples=min(own.max_examples, budget), suppress_health_check=list(relaxed), deadline=None)


@pytest.hookimpl(trylast=True)
def pytest_report_header(config):
    examples = os.environ.get("FASTTOPK_SANITIZE_EXAMPLES", "25")
    return f"hypothesis capped at {examples} examples per test (sanitizer pass)"
