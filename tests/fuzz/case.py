"""One fuzz case: a call, what the reference says it must give, and how to judge it."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

AxisError = getattr(np, "exceptions", np).AxisError


@dataclass
class Err:
    """The call must raise one of `classes`; the message must contain one of `names` (the
    argument at fault), unless `names` is empty (scikit-learn's own messages)."""

    classes: tuple
    names: tuple = ()
    exact: bool = False  # the class itself, not a subclass (scikit-learn parity)

    def merge(self, other: Err) -> Err:
        return Err(self.classes + other.classes, self.names + other.names, self.exact)


@dataclass
class Ok:
    check: Callable[[object], str | None]  # None when the result is right, else why not


@dataclass
class Case:
    func: str
    recipe: str
    call: Callable[[], object]
    expect: object  # Ok or Err
    guard: list = field(default_factory=list)  # arrays whose bytes must not change
    after: list = field(default_factory=list)  # (array, expected bytes) for in-place cases
    warns: bool | None = None  # whether an UndefinedMetricWarning must come (metrics)


def errors(*candidates) -> Err | None:
    """The union of the errors that apply (None entries skipped), or None."""
    found = [c for c in candidates if c is not None]
    if not found:
        return None
    out = found[0]
    for c in found[1:]:
        out = out.merge(c)
    return out


def judge(case: Case):
    """Runs the case: a list of (kind, detail) failures, empty when it behaved."""
    snap = [bytes(a.tobytes()) for a in case.guard]
    failures = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, raised = case.call(), None
        except Exception as exc:  # judged below
            result, raised = None, exc
    expect = case.expect
    if isinstance(expect, Err):
        if raised is None:
            failures.append(("missing-error", f"expected {_names(expect.classes)} naming "
                             f"{expect.names}, got a result: {_short(result)}"))
        elif not _class_ok(raised, expect):
            failures.append(("wrong-error-class", f"expected {_names(expect.classes)}, got "
                             f"{type(raised).__name__}: {raised}"))
        elif expect.names and not any(n in str(raised) for n in expect.names):
            failures.append(("unclear-error", f"{type(raised).__name__}: {raised!s:.300} "
                             f"(names none of {expect.names})"))
    elif raised is not None:
        failures.append(("unexpected-error", f"{type(raised).__name__}: {raised!s:.300}"))
    else:
        try:
            why = expect.check(result)
        except Exception as exc:  # a result the check cannot even read
            why = f"result unreadable by the check: {type(exc).__name__}: {exc}"
        if why:
            failures.append(("wrong-answer", why))
    if case.warns is not None and raised is None:
        got = any(type(w.message).__name__ == "UndefinedMetricWarning" for w in caught)
        if got != case.warns:
            failures.append(("wrong-warning", f"UndefinedMetricWarning expected={case.warns}"))
    for a, before in zip(case.guard, snap):
        if a.tobytes() != before:
            failures.append(("input-changed", f"an input array of shape {a.shape} changed"))
    for a, want in case.after:
        if a.tobytes() != want:
            failures.append(("wrong-answer", "the array written in place holds the wrong bytes"))
    return failures


def _class_ok(raised, expect: Err) -> bool:
    if expect.exact:
        return type(raised) in expect.classes
    return isinstance(raised, expect.classes)


def _names(classes) -> str:
    return "/".join(sorted({c.__name__ for c in classes}))


def _short(value) -> str:
    return repr(value)[:200]
