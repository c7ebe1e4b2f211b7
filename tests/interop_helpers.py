"""Helpers shared by the interop tests: what reaches the core, and half-precision ulps."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import fasttopk
from fasttopk import _argreduce, _selection, _softmax

HALF = pytest.mark.skipif(
    not getattr(fasttopk._core, "half_precision", False),
    reason="the core does not read float16/bfloat16 yet",
)


def data_pointer(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


class CoreSpy:
    """Stands in for fasttopk._core and records the data pointer of every array argument."""

    def __init__(self, core):
        self._core = core
        self.calls = []

    def __getattr__(self, name):
        target = getattr(self._core, name)
        if not callable(target):
            return target

        def spy(*args, **kwargs):
            self.calls.append((name, [data_pointer(a) for a in args if isinstance(a, np.ndarray)]))
            return target(*args, **kwargs)

        return spy


@contextlib.contextmanager
def core_spy(monkeypatch):
    spy = CoreSpy(_selection._core)
    for module in (_argreduce, _selection, _softmax):  # the modules that call the array kernels
        monkeypatch.setattr(module, "_core", spy)
    yield spy


def ulp_distance(a_bits: np.ndarray, b_bits: np.ndarray) -> np.ndarray:
    """How many representable values lie between two arrays of 16-bit floats given as their
    int16 bit patterns (sign-magnitude, made monotonic first). Works for float16 and bfloat16."""
    def monotonic(bits):
        bits = bits.astype(np.int32)
        return np.where(bits < 0, -32768 - bits, bits)  # negative floats: count down from -0

    return np.abs(monotonic(a_bits) - monotonic(b_bits))
