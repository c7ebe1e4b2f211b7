"""classes=: labels for the chosen indices on argmax, argmin, topk, argtopk and topk_softmax;
checked against indexing the labels array with NumPy's own answer."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import fasttopk

NAMES = np.array(["ant", "bee", "cat", "dog", "eel", "fox", "gnu"])
LABEL_KINDS = {
    "str array": NAMES,
    "str list": NAMES.tolist(),
    "ints": np.arange(100, 107),
    "objects": np.array([object() for _ in range(7)], dtype=object),
    "tuples": [(i, str(i)) for i in range(7)],  # NumPy would read these as a 2-D array
    "range": range(10, 17),
}


def as_label_array(classes):
    if isinstance(classes, list) and isinstance(classes[0], tuple):
        arr = np.empty(len(classes), dtype=object)
        for i, c in enumerate(classes):
            arr[i] = c
        return arr
    return np.asarray(classes)


@pytest.fixture
def scores(rng):
    return rng.standard_normal((5, 7))


@pytest.mark.parametrize("kind", list(LABEL_KINDS))
def test_argmax_argmin_return_labels(scores, kind):
    classes = LABEL_KINDS[kind]
    labels = as_label_array(classes)
    np.testing.assert_array_equal(fasttopk.argmax(scores, classes=classes), labels[np.argmax(scores, axis=-1)])
    np.testing.assert_array_equal(fasttopk.argmin(scores, classes=classes), labels[np.argmin(scores, axis=-1)])
    one = fasttopk.argmax(scores[0], classes=classes)
    assert one == labels[np.argmax(scores[0])]


def test_argmax_other_axes_and_out(rng):
    x = rng.standard_normal((4, 7, 3))
    np.testing.assert_array_equal(fasttopk.argmax(x, axis=1, classes=NAMES), NAMES[np.argmax(x, axis=1)])
    flat_names = np.array([f"c{i}" for i in range(x.size)])
    assert fasttopk.argmax(x, axis=None, classes=flat_names) == flat_names[np.argmax(x)]
    out = np.empty((4, 3), dtype=np.int64)
    names = fasttopk.argmin(x, axis=1, out=out, classes=NAMES)
    np.testing.assert_array_equal(out, np.argmin(x, axis=1))  # out holds the indices
    np.testing.assert_array_equal(names, NAMES[out])


@pytest.mark.parametrize("kind", list(LABEL_KINDS))
@pytest.mark.parametrize("fn", ["topk", "topk_softmax"])
def test_topk_results_gain_labels_and_still_unpack(scores, kind, fn):
    classes = LABEL_KINDS[kind]
    labels = as_label_array(classes)
    result = getattr(fasttopk, fn)(scores, 3, classes=classes)
    values, indices = result  # still a 2-tuple
    assert isinstance(result, tuple) and len(result) == 2 and isinstance(result, fasttopk.TopK)
    assert result.values is values and result.indices is indices
    assert result.labels.shape == indices.shape
    np.testing.assert_array_equal(result.labels, labels[indices])
    plain = getattr(fasttopk, fn)(scores, 3)
    np.testing.assert_array_equal(plain.indices, indices)
    assert not hasattr(plain, "labels")


def test_labeled_result_pickles_copies_and_replaces(scores):
    result = fasttopk.topk(scores, 2, classes=NAMES)
    for other in (pickle.loads(pickle.dumps(result)), copy.copy(result), copy.deepcopy(result)):
        np.testing.assert_array_equal(other.labels, result.labels)
        np.testing.assert_array_equal(other.indices, result.indices)
    replaced = result._replace(values=result.values * 0)
    np.testing.assert_array_equal(replaced.labels, result.labels)
    assert "labels=" in repr(result)


def test_argtopk_returns_labels(rng):
    x = rng.standard_normal((3, 7, 4))
    for axis in (1, -2):
        got = fasttopk.argtopk(x, 2, axis=axis, classes=NAMES)
        np.testing.assert_array_equal(got, NAMES[fasttopk.argtopk(x, 2, axis=axis)])
    got = fasttopk.topk(x, 2, axis=1, classes=NAMES)
    assert got.labels.shape == (3, 2, 4)
    np.testing.assert_array_equal(got.labels, NAMES[got.indices])


def test_topk_softmax_other_axis(rng):
    x = rng.standard_normal((7, 5))
    got = fasttopk.topk_softmax(x, 3, axis=0, classes=NAMES, temperature=2.0)
    np.testing.assert_array_equal(got.labels, NAMES[got.indices])
    assert got.labels.shape == (3, 5)


@pytest.mark.parametrize("fn", ["argmax", "argmin", "topk", "argtopk", "topk_softmax"])
@pytest.mark.parametrize("bad", [NAMES[:6], [*NAMES.tolist(), "yak"], np.array(["a"]), []])
def test_wrong_length_names_classes(scores, fn, bad):
    f = getattr(fasttopk, fn)
    args = (scores,) if fn in ("argmax", "argmin") else (scores, 2)
    with pytest.raises(ValueError, match="classes"):
        f(*args, classes=bad)


@pytest.mark.parametrize("fn", ["argmax", "topk", "topk_softmax"])
@pytest.mark.parametrize("bad", [np.zeros((7, 2)), "abcdefg", 7])
def test_classes_must_be_1d(scores, fn, bad):
    f = getattr(fasttopk, fn)
    args = (scores,) if fn == "argmax" else (scores, 2)
    with pytest.raises(ValueError, match="classes"):
        f(*args, classes=bad)


def test_classes_left_unchanged(scores):
    names = NAMES.copy()
    fasttopk.topk(scores, 3, classes=names)
    np.testing.assert_array_equal(names, NAMES)
