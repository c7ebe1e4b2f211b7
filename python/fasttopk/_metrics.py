"""scikit-learn's ``top_k_accuracy_score``, the per-sample ranks behind it, and a streaming
accumulator, on one SIMD pass of the core (``fasttopk._core.true_label_rank``).

Parity rules kept here (scikit-learn 1.9 is the reference; it is not imported except for its
warning and error classes, and only when a warning or a parameter error is raised):

- the same checks in the same order, so the same exception class and message come first:
  parameter validation (``validate_params``), ``check_array``/``column_or_1d`` on ``y_true``,
  ``type_of_target``, ``check_array`` on ``y_score`` (NaN/inf included), the shape checks,
  ``check_consistent_length``, the class checks, the ``UndefinedMetricWarning`` for ``k >=
  n_classes``, then the score. The NaN/inf check on ``y_score`` is folded into the rank pass;
  when a later check fails first, the scores are checked for NaN/inf before that error is
  raised, so the error scikit-learn gives first is the one raised here too.
- the same hits (rank < k with scikit-learn's tie rule: among equal scores the higher class
  index ranks first; binary 1-D scores with k == 1 use the threshold 0.5 when every score lies
  in [0, 1], else 0; k >= 2 is a hit for binary input), reduced with the very expressions
  scikit-learn uses (``np.average``, ``np.sum``, ``np.dot``), so the value is bit for bit the
  same and the return type is ``float``.

Memory: y_score is read in place when it is float32/float64/int32/int64 with a contiguous last
axis (any row stride); other dtypes or layouts (float16, bool, small ints, uint, Fortran order)
are converted once. Everything else is O(n_samples).
"""
from __future__ import annotations

import importlib.util
import math
import numbers
import sys
import warnings
from collections.abc import Sequence

import numpy as np

from . import _core
from ._layout import aligned as _aligned
from ._layout import bfloat16_to_float32 as _bfloat16_to_float32
from ._layout import is_bfloat16 as _is_bfloat16
from ._layout import rows as _rows
from ._layout import to_core as _to_core
from ._validation import as_real_array as _as_real_array
from ._validation import refuse_masked as _refuse_masked
from ._dask_dispatch import dask_metrics, is_dask

__all__ = ["TopKAccuracy", "top_k_accuracy_score", "true_label_rank"]

_INT64_MAX = np.iinfo(np.int64).max
_CHUNK = 1 << 20  # elements per chunk on the (error-only) element-wise NaN/inf scan


# --- scikit-learn's warning and error classes, resolved lazily -------------------------------


class _LocalUndefinedMetricWarning(UserWarning):
    """Warning used when a metric is undefined or meaningless (scikit-learn's class is used
    instead whenever scikit-learn can be imported)."""


_LocalUndefinedMetricWarning.__name__ = "UndefinedMetricWarning"
_LocalUndefinedMetricWarning.__qualname__ = "UndefinedMetricWarning"


class _LocalInvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type or value (scikit-learn's class is used instead whenever
    scikit-learn can be imported); both a ValueError and a TypeError, as scikit-learn's."""


_LocalInvalidParameterError.__name__ = "InvalidParameterError"
_LocalInvalidParameterError.__qualname__ = "InvalidParameterError"

_resolved: dict = {}


def _sklearn_class(name: str):
    """scikit-learn's own class when scikit-learn is importable, else the local stand-in. The
    import (slow) happens only the first time a warning or a parameter error is raised."""
    if name not in _resolved:
        cls = None
        try:
            if importlib.util.find_spec("sklearn") is not None:
                if name == "UndefinedMetricWarning":
                    from sklearn.exceptions import UndefinedMetricWarning as cls
                else:
                    from sklearn.utils._param_validation import InvalidParameterError as cls
        except Exception:  # a broken or partial install: fall back
            cls = None
        if cls is None:
            cls = (
                _LocalUndefinedMetricWarning
                if name == "UndefinedMetricWarning"
                else _LocalInvalidParameterError
            )
        _resolved[name] = cls
    return _resolved[name]


def __getattr__(name):
    # `fasttopk._metrics.UndefinedMetricWarning` / `.InvalidParameterError`: resolved on first
    # access, so that importing fasttopk never imports scikit-learn.
    if name in ("UndefinedMetricWarning", "InvalidParameterError"):
        return _sklearn_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- parameter validation (sklearn.utils._param_validation) ----------------------------------


def _is_sparse(x) -> bool:
    sparse = sys.modules.get("scipy.sparse")  # an object can only be sparse if scipy is loaded
    return sparse is not None and sparse.issparse(x)


def _is_arraylike_not_scalar(x) -> bool:
    if _is_sparse(x):
        return False
    arraylike = hasattr(x, "__len__") or hasattr(x, "shape") or hasattr(x, "__array__")
    return arraylike and not np.isscalar(x)


def _invalid(caller: str, name: str, expected: str, value):
    return _sklearn_class("InvalidParameterError")(
        f"The {name!r} parameter of {caller} must be {expected}. Got {value!r} instead."
    )


def _check_arraylike(caller: str, name: str, value, allow_none: bool) -> None:
    if allow_none and value is None:
        return
    _refuse_masked(value, name)  # scikit-learn would drop the mask silently
    if not _is_arraylike_not_scalar(value):
        raise _invalid(caller, name, "an array-like or None" if allow_none else "an array-like", value)


def _is_valid_k(k) -> bool:
    # Interval(Integral, 1, None, closed="left"): any Integral (bool and NumPy ints included).
    return isinstance(k, numbers.Integral) and k >= 1


def _parse_k(caller: str, k):
    """(list of k, is_scalar). An int as scikit-learn takes it, or a non-empty 1-D sequence of
    them (list, tuple, range, 1-D array)."""
    if _is_valid_k(k):
        return [k], True
    is_seq = isinstance(k, (list, tuple, range)) or (isinstance(k, np.ndarray) and k.ndim == 1)
    if is_seq and len(k) > 0 and all(_is_valid_k(v) for v in k):
        return list(k), False
    if is_seq:
        raise _invalid(
            caller, "k", "an int in the range [1, inf) or a non-empty sequence of such ints", k
        )
    raise _invalid(caller, "k", "an int in the range [1, inf)", k)


def _check_bool(caller: str, name: str, value) -> None:
    if not isinstance(value, (bool, np.bool_)):
        expected = f"an instance of 'bool' or an instance of 'numpy.{np.bool_.__qualname__}'"
        raise _invalid(caller, name, expected, value)


# --- check_array / column_or_1d / _num_samples (sklearn.utils.validation) ---------------------


def _num_samples(x) -> int:
    message = "Expected sequence or array-like, got %s" % type(x)
    if hasattr(x, "fit") and callable(x.fit):
        raise TypeError(message)
    if hasattr(x, "shape") and x.shape is not None:
        if len(x.shape) == 0:
            raise TypeError(
                "Input should have at least 1 dimension i.e. satisfy "
                f"`len(x.shape) > 0`, got scalar `{x!r}` instead."
            )
        if isinstance(x.shape[0], numbers.Integral):
            return int(x.shape[0])
    if not hasattr(x, "__len__") and not hasattr(x, "shape"):
        if hasattr(x, "__array__"):
            x = np.asarray(x)
        else:
            raise TypeError(message)
    try:
        return len(x)
    except TypeError as type_error:
        raise TypeError(message) from type_error


def _asarray(x, numeric: bool) -> np.ndarray:
    from ._interop import as_numpy  # (a local import keeps this hook in one place)

    x = as_numpy(x, "y_score" if numeric else "y_true")  # torch/JAX read in place
    if isinstance(x, np.matrix):
        raise TypeError(
            "np.matrix is not supported. Please convert to a numpy array with "
            "np.asarray. For more information see: "
            "https://numpy.org/doc/stable/reference/generated/numpy.matrix.html"
        )
    dtype_orig = getattr(x, "dtype", None)
    if numeric and getattr(dtype_orig, "kind", None) == "O":
        arr = np.asarray(x, dtype=np.float64)  # dtype="numeric": object arrays become float64
    else:
        arr = np.asarray(x)
    if arr.dtype.kind == "c":
        raise ValueError("Complex data not supported\n{}\n".format(arr))
    return arr


def _nonfinite(arr: np.ndarray):
    """None if `arr` holds no NaN/inf, else scikit-learn's message for it. O(1) extra memory
    when finite (one sum); chunked element-wise scan otherwise."""
    if _is_bfloat16(arr.dtype):  # NumPy has no arithmetic for it (without ml_dtypes)
        arr = _bfloat16_to_float32(arr)  # only on error paths: the kernel checks finiteness
    kind = arr.dtype.kind
    if kind == "O":
        if np.any(arr != arr):  # _object_dtype_isnan
            return "Input contains NaN"
        return None
    if kind != "f" or arr.size == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(arr)):
            return None
    flat = arr.reshape(-1) if arr.ndim <= 1 else None
    has_nan = has_inf = False
    if flat is not None:
        chunks = (flat[i : i + _CHUNK] for i in range(0, flat.shape[0], _CHUNK))
    else:
        rows = arr.reshape(arr.shape[0], -1) if arr.ndim == 2 else arr.reshape(-1, arr.shape[-1])
        step = max(1, _CHUNK // max(1, rows.shape[1]))
        chunks = (rows[i : i + step] for i in range(0, rows.shape[0], step))
    for chunk in chunks:
        has_nan = has_nan or bool(np.isnan(chunk).any())
        has_inf = has_inf or bool(np.isinf(chunk).any())
        if has_nan:
            break
    if has_nan:
        return "Input contains NaN."
    if has_inf:
        return f"Input contains infinity or a value too large for {arr.dtype!r}."
    return None


def _raise_if_nonfinite(arr: np.ndarray) -> None:
    msg = _nonfinite(arr)
    if msg is not None:
        raise ValueError(msg)


def _check_min_samples_features(arr: np.ndarray, min_samples: int) -> None:
    if min_samples > 0:
        n = _num_samples(arr)
        if n < min_samples:
            raise ValueError(
                "Found array with %d sample(s) (shape=%s) while a minimum of %d is required."
                % (n, arr.shape, min_samples)
            )
    if arr.ndim == 2 and arr.shape[1] < 1:
        raise ValueError(
            "Found array with %d feature(s) (shape=%s) while a minimum of 1 is required."
            % (arr.shape[1], arr.shape)
        )


def _column_or_1d(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 1:
        return np.ascontiguousarray(arr)
    if arr.ndim == 2 and arr.shape[1] == 1:
        return np.ascontiguousarray(arr.reshape(-1))
    raise ValueError(
        "y should be a 1d array, got an array of shape {} instead.".format(arr.shape)
    )


def _check_y_true(y_true, min_samples: int = 1) -> np.ndarray:
    """check_array(y_true, ensure_2d=False, dtype=None) then column_or_1d."""
    arr = _asarray(y_true, numeric=False)
    if arr.ndim >= 3:
        raise ValueError(f"Found array with dim {arr.ndim}, while dim <= 2 is required.")
    _raise_if_nonfinite(arr)
    _check_min_samples_features(arr, min_samples)
    return _column_or_1d(arr)


def _check_y_score(y_score, min_samples: int = 1) -> np.ndarray:
    """check_array(y_score, ensure_2d=False) except the NaN/inf check of float arrays, which
    the caller makes later (in the rank pass, or before raising any later error)."""
    arr = _asarray(y_score, numeric=True)
    if _is_bfloat16(arr.dtype) and arr.ndim < 2:
        arr = _bfloat16_to_float32(arr)  # 1-D (binary) scores are compared in NumPy; 2-D go as they are
    if arr.dtype.kind in "USV" and not _is_bfloat16(arr.dtype):
        raise ValueError(
            "dtype='numeric' is not compatible with arrays of bytes/strings."
            "Convert your data to numeric values explicitly instead."
        )
    if arr.ndim >= 3:
        raise ValueError(f"Found array with dim {arr.ndim}, while dim <= 2 is required.")
    if arr.ndim == 0 or arr.dtype.kind == "O":
        _raise_if_nonfinite(arr)
    _check_min_samples_features(arr, min_samples)
    if arr.dtype.kind == "O":
        # A list holding Python objects (None, Decimal, ...): scikit-learn keeps the object
        # dtype and sorts the objects, which fails with a TypeError for None; the core needs
        # numbers.
        if any(v is None for v in arr.flat):
            raise TypeError("'<' not supported between instances of 'NoneType' and a number "
                            "(y_score holds None)")
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"y_score: could not read the scores as numbers ({e})") from e
        _raise_if_nonfinite(arr)
    if arr.dtype.kind == "M" or arr.dtype.kind == "m":
        raise TypeError(f"y_score must hold real numbers, got dtype {arr.dtype}")
    return arr


def _check_labels(labels) -> np.ndarray:
    """column_or_1d(labels): check_array(ensure_2d=False, dtype=None, ensure_all_finite=False,
    ensure_min_samples=0) and the 1-D check."""
    arr = _asarray(labels, numeric=False)
    if arr.ndim >= 3:
        raise ValueError(f"Found array with dim {arr.ndim}, while dim <= 2 is required.")
    _check_min_samples_features(arr, 0)
    return _column_or_1d(arr)


def _check_consistent_length(*arrays) -> None:
    lengths = [_num_samples(x) for x in arrays if x is not None]
    if len(set(lengths)) > 1:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: %r"
            % [int(n) for n in lengths]
        )


# --- _unique / _encode (sklearn.utils._encode) ------------------------------------------------


def _is_scalar_nan(x) -> bool:
    return (
        not isinstance(x, numbers.Integral) and isinstance(x, numbers.Real) and math.isnan(x)
    )


def _unique(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        try:
            uniques_set = set(values)
            missing = {v for v in uniques_set if v is None or _is_scalar_nan(v)}
            uniques = sorted(uniques_set - missing)
            if None in missing:
                uniques.append(None)
            if any(v is not None for v in missing):
                uniques.append(np.nan)
            return np.array(uniques, dtype=values.dtype)
        except TypeError:
            types = sorted(t.__qualname__ for t in set(type(v) for v in values))
            raise TypeError(
                "Encoders require their input argument must be uniformly "
                f"strings or numbers. Got {types}"
            ) from None
    uniques = np.unique(values)
    if uniques.size and _is_scalar_nan(uniques[-1]):
        uniques = uniques[: np.searchsorted(uniques, np.nan) + 1]
    return uniques


def _is_numeric(dtype: np.dtype) -> bool:
    return dtype.kind in "iufc"  # the array API's "numeric": bool is not


def _encode(values: np.ndarray, uniques: np.ndarray, check_unknown: bool = True) -> np.ndarray:
    """scikit-learn's _encode(values, uniques=uniques) (values known to lie in uniques)."""
    if not _is_numeric(values.dtype):
        if values.dtype.kind == uniques.dtype.kind and values.dtype.kind in "Ub":
            return np.searchsorted(uniques, values)  # == the dict lookup, without the loop
        table = {val: i for i, val in enumerate(uniques)}
        nan_index = next((i for i, val in enumerate(uniques) if _is_scalar_nan(val)), None)

        def lookup(v):
            try:
                return table[v]
            except KeyError:
                if nan_index is not None and _is_scalar_nan(v):
                    return nan_index
                raise

        try:
            return np.asarray([lookup(v) for v in values])
        except KeyError as e:
            raise ValueError(f"y contains previously unseen labels: {e}") from None
    if not check_unknown:
        return np.searchsorted(uniques, values)
    # _check_unknown, numeric branch (kept for its errors on odd label dtypes)
    diff = np.setdiff1d(np.unique(values), uniques, assume_unique=True)
    if np.any(np.isnan(uniques)):
        diff = diff[~np.isnan(diff)]
    if len(diff):
        raise ValueError(f"y contains previously unseen labels: {list(diff)}")
    return np.searchsorted(uniques, values)


# --- y_true: type_of_target and encoding, with the O(n) integer fast path ---------------------


def _lut_limit(n: int) -> int:
    return 2 * n + 65536  # a range this small is tabulated (O(n) memory), never sorted


class _YTrue:
    """A checked 1-D y_true, with what type_of_target and the encoders need, computed once.

    Integer labels (ints, bools, uint below 2**63, or integer-valued floats for the unlabelled
    case) whose range is O(n) are counted with bincount and encoded through a lookup table:
    O(n), no sort, the same classes and codes as scikit-learn's np.unique/searchsorted."""

    def __init__(self, y: np.ndarray):
        self.y = y
        self.ints = None  # exact int64 values, when y is integer-valued
        self._range = False  # (lo, hi, counts) or None once computed
        self._uniques = None
        self._np_uniques = None

    def _set_ints(self) -> None:
        y = self.y
        kind = y.dtype.kind
        if kind in "ib":
            self.ints = y.astype(np.int64, copy=False)
        elif kind == "u":
            if y.dtype.itemsize < 8 or y.max() <= _INT64_MAX:
                self.ints = y.astype(np.int64, copy=False)

    def type_of_target(self) -> str:
        y = self.y
        first = y[0]
        if isinstance(first, bytes):
            raise TypeError(
                "Support for labels represented as bytes is not supported. Convert "
                "the labels to a string or integer format."
            )
        if (
            not hasattr(first, "__array__")
            and isinstance(first, Sequence)
            and not isinstance(first, str)
        ):
            raise ValueError(
                "You appear to be using a legacy multi-label data"
                " representation. Sequence of sequences are no"
                " longer supported; use a binary array or sparse"
                " matrix instead - the MultiLabelBinarizer"
                " transformer can convert to this format."
            )
        if y.dtype == object and not isinstance(y.flat[0], str):
            return "unknown"
        if y.dtype.kind == "f":
            with np.errstate(invalid="ignore", over="ignore"):
                integral = y.astype(np.int64)
                if np.any(y != integral.astype(y.dtype)):
                    return "continuous"
            self.ints = integral
        else:
            self._set_ints()
        return "multiclass" if self.n_unique() > 2 else "binary"

    def int_range(self):
        """(lo, hi, counts) of the integer values when their range is small, else None."""
        if self._range is False:
            self._range = None
            ints = self.ints
            if ints is not None and ints.size:
                lo, hi = int(ints.min()), int(ints.max())
                if hi - lo < _lut_limit(ints.shape[0]):
                    shifted = ints if lo == 0 else ints - lo
                    self._range = (lo, hi, np.bincount(shifted, minlength=hi - lo + 1))
        return self._range

    def uniques(self) -> np.ndarray:
        """scikit-learn's _unique(y): sorted classes (Python's sort for object arrays)."""
        if self._uniques is None:
            if self.y.dtype == object or self._np_uniques is None:
                self._uniques = _unique(self.y)
            else:
                self._uniques = self._np_uniques
        return self._uniques

    def n_unique(self) -> int:
        rng = self.int_range()
        if rng is not None:
            return int(np.count_nonzero(rng[2]))
        if self._np_uniques is None:
            self._np_uniques = np.unique(self.y)  # type_of_target's count (and its errors)
        return int(self._np_uniques.shape[0])

    def encode_self(self) -> np.ndarray:
        """Codes against the classes of y itself (labels=None)."""
        rng = self.int_range()
        if rng is not None:
            lo, hi, counts = rng
            if lo == 0 and np.all(counts):  # classes are exactly 0..C-1: as they are
                return self.ints
            lut = np.cumsum(counts > 0) - 1
            return lut[self.ints - lo]
        return _encode(self.y, self.uniques(), check_unknown=False)

    def encode_with(self, classes: np.ndarray) -> np.ndarray:
        """Codes against validated (unique, sorted) classes; raises if y has other labels."""
        y = self.y
        fast = (
            self.ints is not None
            and y.dtype.kind in "iub"
            and classes.size > 0
            and (classes.dtype.kind == "i" or (classes.dtype.kind == "u" and classes[-1] <= _INT64_MAX))
        )
        if fast:
            c = classes.astype(np.int64)
            clo, chi = int(c[0]), int(c[-1])
            if chi - clo < _lut_limit(y.shape[0]) + c.shape[0]:
                lo, hi = int(self.ints.min()), int(self.ints.max())
                if lo < clo or hi > chi:
                    raise ValueError("'y_true' contains labels not in parameter 'labels'.")
                if clo == 0 and chi == c.shape[0] - 1:  # classes 0..C-1: as they are
                    return self.ints
                lut = np.full(chi - clo + 1, -1, dtype=np.int64)
                lut[c - clo] = np.arange(c.shape[0])
                codes = lut[self.ints - clo]
                if codes.min() < 0:
                    raise ValueError("'y_true' contains labels not in parameter 'labels'.")
                return codes
        if len(np.setdiff1d(y, classes)):
            raise ValueError("'y_true' contains labels not in parameter 'labels'.")
        return _encode(y, classes)


def _validated_classes(labels) -> np.ndarray:
    lab = _check_labels(labels)
    if lab.dtype.kind in "iufbU" and lab.shape[0] > 0 and bool(np.all(lab[1:] > lab[:-1])):
        return lab  # strictly increasing: unique and ordered, _unique(lab) equals it (O(C))
    classes = _unique(lab)
    if len(classes) != len(lab):
        raise ValueError("Parameter 'labels' must be unique.")
    if not np.array_equal(classes, lab):
        raise ValueError("Parameter 'labels' must be ordered.")
    return classes


class _Prepared:
    __slots__ = ("binary", "scores", "codes", "n_classes")

    def __init__(self, binary, scores, codes, n_classes):
        self.binary = binary  # 1-D scores, threshold rule
        self.scores = scores  # binary: 1-D; multiclass: 2-D
        self.codes = codes  # int codes of y_true (int64 for multiclass)
        self.n_classes = n_classes


def _prepare(y_true, y_score, labels, sample_weight) -> _Prepared:
    """Every check of top_k_accuracy_score, in its order, up to (not including) the warning.
    The NaN/inf check of y_score is not made here on success (the caller's pass makes it)."""
    yt = _YTrue(_check_y_true(y_true))
    y_type = yt.type_of_target()
    if y_type == "binary" and labels is not None and len(labels) > 2:
        y_type = "multiclass"
    if y_type not in {"binary", "multiclass"}:
        raise ValueError(f"y type must be 'binary' or 'multiclass', got '{y_type}' instead.")
    checked = _check_y_score(y_score)
    try:
        ys = checked
        if y_type == "binary":
            if ys.ndim == 2 and ys.shape[1] != 1:
                raise ValueError(
                    "`y_true` is binary while y_score is 2d with"
                    f" {ys.shape[1]} classes. If `y_true` does not contain all the"
                    " labels, `labels` must be provided."
                )
            ys = _column_or_1d(ys)
        elif ys.ndim != 2:
            raise ValueError(
                "`y_score` needs to be of shape `(n_samples, n_classes)`, since "
                "`y_true` contains multiple classes. Got "
                f"`y_score.shape={ys.shape}`."
            )
        _check_consistent_length(yt.y, ys, sample_weight)
        y_score_n_classes = ys.shape[1] if ys.ndim == 2 else 2
        if labels is None:
            n_classes = yt.n_unique()
            if n_classes != y_score_n_classes:
                raise ValueError(
                    f"Number of classes in 'y_true' ({n_classes}) not equal "
                    f"to the number of classes in 'y_score' ({y_score_n_classes})."
                    "You can provide a list of all known classes by assigning it "
                    "to the `labels` parameter."
                )
            codes = yt.encode_self()
        else:
            classes = _validated_classes(labels)
            n_classes = len(classes)
            if n_classes != y_score_n_classes:
                raise ValueError(
                    f"Number of given labels ({n_classes}) not equal to the "
                    f"number of classes in 'y_score' ({y_score_n_classes})."
                )
            codes = yt.encode_with(classes)
    except Exception:
        msg = _nonfinite(checked)  # scikit-learn checks y_score for NaN/inf before these
        if msg is not None:
            raise ValueError(msg) from None
        raise
    return _Prepared(y_type == "binary", ys, codes, n_classes)


# --- the computation ---------------------------------------------------------------------------


def _ranks(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """One pass of the core: each sample's rank of its true class; raises on NaN/inf."""
    core = _to_core(_as_real_array(scores, "y_score"))
    rows = _rows(core, 1)
    codes = _aligned(np.ascontiguousarray(codes, dtype=np.int64))
    ranks = np.empty(rows.shape[0], dtype=np.int64)
    if not _core.true_label_rank(rows, codes, ranks):
        _raise_if_nonfinite(scores)
        raise ValueError("Input contains NaN.")  # not reached: the core and NumPy agree
    return ranks


def _binary_hits_k1(scores: np.ndarray, codes: np.ndarray, threshold) -> np.ndarray:
    y_pred = (scores > threshold).astype(np.int64)
    return y_pred == codes


def _binary_threshold(scores: np.ndarray):
    return 0.5 if scores.min() >= 0 and scores.max() <= 1 else 0


def _warn_k(ks, n_classes: int) -> None:
    for k in ks:
        if k >= n_classes:
            warnings.warn(
                (
                    f"'k' ({k}) greater than or equal to 'n_classes' ({n_classes}) "
                    "will result in a perfect score and is therefore meaningless."
                ),
                _sklearn_class("UndefinedMetricWarning"),
                stacklevel=3,
            )


def _reduce(hits: np.ndarray, normalize, sample_weight) -> float:
    # scikit-learn's own expressions, for the same value to the last bit.
    if normalize:
        return float(np.average(hits, weights=sample_weight))
    elif sample_weight is None:
        return float(np.sum(hits))
    else:
        return float(np.dot(hits, sample_weight))


def top_k_accuracy_score(y_true, y_score, *, k=2, normalize=True, sample_weight=None, labels=None):
    """Top-k accuracy: the share (or number) of samples whose true label is among the `k`
    highest-scored classes. A drop-in for ``sklearn.metrics.top_k_accuracy_score``: the same
    value, type (``float``), exceptions, messages and ``UndefinedMetricWarning``; one SIMD pass
    over `y_score`, read in place, O(n_samples) extra memory.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (integers, floats with integer values, strings, bools).
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Scores. Binary `y_true` takes 1-D scores (of the greater label); multiclass takes one
        column per class, in the order of `labels`, or of the sorted labels of `y_true`.
    k : int or sequence of int, default=2
        Number of most likely classes considered. A sequence (``k=[1, 5]``) gives a NumPy
        float64 array of scores in that order from a single pass over `y_score`.
    normalize : bool, default=True
        True: the fraction of hits; False: the (weighted) number of hits.
    sample_weight : array-like of shape (n_samples,), default=None
    labels : array-like of shape (n_classes,), default=None
        The classes, sorted, that index the columns of `y_score`; needed when `y_true` lacks
        some class. Integer labels 0..C-1 are used as they are (an O(n) check, no sort);
        other labels are encoded by scikit-learn's rules.

    Returns
    -------
    float, or a float64 ndarray when `k` is a sequence.

    Notes
    -----
    Among equal scores the higher class index ranks first (scikit-learn's rule). Binary input
    with k == 1 predicts the greater label where the score exceeds 0.5 (all scores in [0, 1])
    or 0 (otherwise); k >= 2 counts every binary sample as a hit. NaN or infinite scores raise
    ValueError. float32/float64/int32/int64 scores with a contiguous last axis are read in
    place; other dtypes and layouts are converted once.
    """
    if is_dask(y_true, y_score, sample_weight, labels):
        return dask_metrics().top_k_accuracy_score(
            y_true, y_score, k=k, normalize=normalize, sample_weight=sample_weight, labels=labels)
    caller = "top_k_accuracy_score"
    _check_arraylike(caller, "y_true", y_true, allow_none=False)
    _check_arraylike(caller, "y_score", y_score, allow_none=False)
    ks, scalar = _parse_k(caller, k)
    _check_bool(caller, "normalize", normalize)
    _check_arraylike(caller, "sample_weight", sample_weight, allow_none=True)
    _check_arraylike(caller, "labels", labels, allow_none=True)

    prep = _prepare(y_true, y_score, labels, sample_weight)
    if prep.binary:
        _raise_if_nonfinite(prep.scores)
        ranks = None
    else:
        ranks = _ranks(prep.scores, prep.codes)
    _warn_k(ks, prep.n_classes)

    weights = sample_weight
    if weights is not None and not scalar:
        weights = np.asanyarray(weights)  # converted once for all k (np.average would anyway)
    results = []
    binary_k1 = None
    for kk in ks:
        if prep.binary:
            if kk == 1:
                if binary_k1 is None:
                    threshold = _binary_threshold(prep.scores)
                    binary_k1 = _binary_hits_k1(prep.scores, prep.codes, threshold)
                hits = binary_k1
            else:
                hits = np.ones_like(prep.scores, dtype=np.bool_)
        else:
            hits = ranks < min(int(kk), prep.n_classes)
        results.append(_reduce(hits, normalize, weights))
    if scalar:
        return results[0]
    return np.asarray(results, dtype=np.float64)


def true_label_rank(y_true, y_score, *, labels=None) -> np.ndarray:
    """Each sample's rank of its true class: 0 when it scores highest. int64, shape (n_samples,).

    The ranking is scikit-learn's (among equal scores the higher class index ranks first), so
    ``true_label_rank(y, s) < k`` are exactly the hits of ``top_k_accuracy_score(y, s, k=k)``;
    rank(t) = #{j: s_j > s_t} + #{j > t: s_j == s_t}. Labels are encoded and checked as in
    :func:`top_k_accuracy_score` (same errors). For binary input (1-D scores) the rank is 0
    where the thresholded prediction (see :func:`top_k_accuracy_score`) is right, else 1.
    """
    if is_dask(y_true, y_score, labels):
        return dask_metrics().true_label_rank(y_true, y_score, labels=labels)
    caller = "true_label_rank"
    _check_arraylike(caller, "y_true", y_true, allow_none=False)
    _check_arraylike(caller, "y_score", y_score, allow_none=False)
    _check_arraylike(caller, "labels", labels, allow_none=True)
    prep = _prepare(y_true, y_score, labels, None)
    if prep.binary:
        _raise_if_nonfinite(prep.scores)
        hits = _binary_hits_k1(prep.scores, prep.codes, _binary_threshold(prep.scores))
        return (~hits).astype(np.int64)
    return _ranks(prep.scores, prep.codes)


# --- streaming ---------------------------------------------------------------------------------


class TopKAccuracy:
    """Top-k accuracy accumulated over batches, for evaluation loops.

    ``update(y_true, y_score, sample_weight=None)`` adds a batch (one SIMD pass, nothing kept
    but a few numbers per k); ``result()`` gives the score; ``merge(other)`` adds another
    accumulator's batches (e.g. from another worker); ``reset()`` starts over.

    ``result()`` equals ``top_k_accuracy_score`` on the concatenated batches with
    ``labels=<the classes below>``: exactly for unweighted input, to float rounding with
    weights (a batch without weights counts each sample with weight 1). It is a ``float``
    (or a float64 array when `k` is a sequence).

    Classes. A stream cannot infer the classes from y_true the way the one-shot function does
    (it sees one batch at a time), so they are fixed up front:

    - ``labels=None``: the classes are the integers ``0 .. n_classes-1``, where n_classes is
      the column count of the first batch's 2-D `y_score` (at least 3), or 2 for 1-D (or one
      column) binary scores. y_true must hold integer values (ints, bools or integral floats)
      in that range; other labels raise ValueError. Note the one-shot function with
      ``labels=None`` would instead raise if some class never occurs in y_true.
    - ``labels=[...]``: the sorted, unique classes (any dtype scikit-learn takes): 2 labels for
      binary 1-D scores, 3 or more for multiclass scores with one column per label.

    Two-column scores are rejected, as scikit-learn rejects them; pass the greater class's
    column as 1-D binary scores. NaN/inf scores, unknown labels and shape mismatches raise the
    one-shot function's errors, and a batch that raises leaves the state unchanged. Empty
    batches are accepted. ``k >= n_classes`` warns ``UndefinedMetricWarning`` once, at the
    first batch after construction or ``reset()``.

    Parameters
    ----------
    k : int or sequence of int, default=2
    normalize : bool, default=True
        True: the fraction of hits; False: the (weighted) number of hits.
    labels : array-like of shape (n_classes,), default=None
    """

    def __init__(self, k=2, *, normalize=True, labels=None):
        caller = "TopKAccuracy"
        self._ks, self._scalar = _parse_k(caller, k)
        _check_bool(caller, "normalize", normalize)
        _check_arraylike(caller, "labels", labels, allow_none=True)
        self.k = k
        self.normalize = normalize
        self.labels = labels
        self._classes = None
        if labels is not None:
            self._classes = _validated_classes(labels)
            if len(self._classes) < 2:
                raise ValueError(
                    f"labels must hold at least 2 classes, got {len(self._classes)}."
                )
        self.reset()

    # state: counts are exact Python ints; weighted sums hold ints until float weights come.
    def reset(self) -> "TopKAccuracy":
        """Forgets every batch (and, with labels=None, the class count taken from them)."""
        n = None if self._classes is None else len(self._classes)
        self._n_classes = n
        self._binary = None if n is None else n == 2
        self._warned = False
        self._count = 0
        self._weight = 0  # total weight (1 per sample of an unweighted batch)
        self._weighted = False
        nk = len(self._ks)
        self._hits = [0] * nk  # multiclass: per k
        self._whits = [0] * nk
        # binary, k == 1: hits at either threshold, and the score range that picks one
        self._bin_hits = [0, 0]  # threshold 0.5, threshold 0
        self._bin_whits = [0, 0]
        self._min = math.inf
        self._max = -math.inf
        return self

    @property
    def n_samples(self) -> int:
        """Samples seen since construction or the last reset."""
        return self._count

    def _layout(self, ys: np.ndarray):
        """(binary, n_classes) this batch's scores imply, checked against the state."""
        if ys.ndim == 1 or (ys.ndim == 2 and ys.shape[1] == 1):
            binary, n = True, 2
        else:
            n = ys.shape[1]
            if n == 2:
                raise ValueError(
                    "y_score has 2 columns: scikit-learn's top_k_accuracy_score rejects 2-d "
                    "scores for binary targets; pass the scores of the greater label as a 1-D "
                    "array (e.g. y_score[:, 1])."
                )
            binary = False
        if self._n_classes is not None:
            if self._binary and not binary:
                raise ValueError(
                    f"y_score has shape {ys.shape}, expected 1-D binary scores "
                    f"(n_classes is 2, from {self._origin()})."
                )
            if not self._binary and (binary or n != self._n_classes):
                raise ValueError(
                    f"y_score has shape {ys.shape}, expected (n_samples, {self._n_classes}) "
                    f"(from {self._origin()})."
                )
        return binary, n

    def _origin(self) -> str:
        return "labels" if self._classes is not None else "the first batch"

    def _codes(self, y: np.ndarray, n_classes: int) -> np.ndarray:
        yt = _YTrue(y)
        if y.shape[0] == 0:
            return np.empty(0, dtype=np.int64)
        if self._classes is not None:
            yt._set_ints()  # integer labels: the O(n) table, no sort
            return yt.encode_with(self._classes)
        if y.dtype.kind == "f":
            if yt.type_of_target() == "continuous":
                raise ValueError(
                    "y type must be 'binary' or 'multiclass', got 'continuous' instead."
                )
        else:
            yt._set_ints()
        if yt.ints is None:
            raise ValueError(
                f"y_true holds {y.dtype} labels: TopKAccuracy needs labels= unless y_true "
                "holds the integers 0..n_classes-1."
            )
        lo, hi = int(yt.ints.min()), int(yt.ints.max())
        if lo < 0 or hi >= n_classes:
            raise ValueError(
                f"y_true holds labels outside 0..{n_classes - 1} (found {lo}..{hi}); pass "
                "labels= to name the classes that index the columns of y_score."
            )
        return yt.ints

    def update(self, y_true, y_score, sample_weight=None) -> "TopKAccuracy":
        """Adds one batch. Returns self."""
        if is_dask(y_true, y_score, sample_weight):
            return dask_metrics().update(self, y_true, y_score, sample_weight)
        caller = "TopKAccuracy.update"
        _check_arraylike(caller, "y_true", y_true, allow_none=False)
        _check_arraylike(caller, "y_score", y_score, allow_none=False)
        _check_arraylike(caller, "sample_weight", sample_weight, allow_none=True)
        y = _check_y_true(y_true, min_samples=0)
        checked = _check_y_score(y_score, min_samples=0)
        _num_samples(checked)  # a 0-d y_score: TypeError, as scikit-learn
        try:
            binary, n_classes = self._layout(checked)
            ys = _column_or_1d(checked) if binary else checked
            w = None
            if sample_weight is not None:
                w = _check_labels(sample_weight)  # 1-D or a column
                if w.dtype.kind not in "biuf":
                    raise TypeError(f"sample_weight must hold numbers, got dtype {w.dtype}")
                if w.dtype.kind == "b":
                    w = w.astype(np.int64)  # np.dot of two bool arrays would be a logical OR
            _check_consistent_length(y, ys, w)
            codes = self._codes(y, n_classes)
        except Exception:
            msg = _nonfinite(checked)
            if msg is not None:
                raise ValueError(msg) from None
            raise
        n = y.shape[0]
        if binary:
            _raise_if_nonfinite(ys)
            if n:
                hits = [_binary_hits_k1(ys, codes, 0.5), _binary_hits_k1(ys, codes, 0)]
                lo, hi = float(ys.min()), float(ys.max())
            else:
                hits, lo, hi = [np.zeros(0, bool)] * 2, math.inf, -math.inf
        else:
            ranks = _ranks(ys, codes) if n else np.empty(0, np.int64)
            hits = [ranks < min(int(kk), n_classes) for kk in self._ks]
        counts = [int(np.count_nonzero(h)) for h in hits]
        if w is None:
            whits, wsum = counts, n
        else:
            whits = [np.dot(h, w).item() for h in hits]
            wsum = np.sum(w).item()
        # commit (nothing above touched the state)
        if self._n_classes is None:
            self._n_classes, self._binary = n_classes, binary
        if not self._warned:
            self._warned = True
            _warn_k(self._ks, self._n_classes)
        self._count += n
        self._weight += wsum
        self._weighted = self._weighted or w is not None
        if binary:
            self._min, self._max = min(self._min, lo), max(self._max, hi)
            for i in range(2):
                self._bin_hits[i] += counts[i]
                self._bin_whits[i] += whits[i]
        else:
            for i in range(len(self._ks)):
                self._hits[i] += counts[i]
                self._whits[i] += whits[i]
        return self

    def merge(self, other: "TopKAccuracy") -> "TopKAccuracy":
        """Adds the batches another accumulator (same k, normalize, labels) has seen. Returns
        self; `other` is unchanged."""
        if not isinstance(other, TopKAccuracy):
            raise TypeError(f"other must be a TopKAccuracy, got {type(other).__name__}")
        same_labels = (self._classes is None and other._classes is None) or (
            self._classes is not None
            and other._classes is not None
            and self._classes.shape == other._classes.shape
            and self._classes.dtype == other._classes.dtype
            and bool(np.all(self._classes == other._classes))
        )
        if [int(a) for a in self._ks] != [int(b) for b in other._ks] or (
            self._scalar != other._scalar
        ):
            raise ValueError(f"cannot merge: k differs ({self.k!r} vs {other.k!r})")
        if bool(self.normalize) != bool(other.normalize):
            raise ValueError("cannot merge: normalize differs")
        if not same_labels:
            raise ValueError("cannot merge: labels differ")
        if (
            self._n_classes is not None
            and other._n_classes is not None
            and (self._n_classes != other._n_classes or self._binary != other._binary)
        ):
            raise ValueError(
                f"cannot merge: n_classes differs ({self._n_classes} vs {other._n_classes})"
            )
        if other._count == 0 and other._n_classes is None:
            return self
        if self._n_classes is None:
            self._n_classes, self._binary = other._n_classes, other._binary
        self._warned = self._warned or other._warned
        self._count += other._count
        self._weight += other._weight
        self._weighted = self._weighted or other._weighted
        self._min, self._max = min(self._min, other._min), max(self._max, other._max)
        for i in range(len(self._ks)):
            self._hits[i] += other._hits[i]
            self._whits[i] += other._whits[i]
        for i in range(2):
            self._bin_hits[i] += other._bin_hits[i]
            self._bin_whits[i] += other._bin_whits[i]
        return self

    def result(self):
        """The score of every batch so far: a float, or a float64 array when k is a
        sequence. Raises ValueError before the first sample (scikit-learn rejects empty
        input), ZeroDivisionError when normalizing weights that sum to zero (as np.average)."""
        if self._count == 0:
            raise ValueError(
                "TopKAccuracy has no samples: call update() with a non-empty batch first."
            )
        out = []
        for i, kk in enumerate(self._ks):
            if self._binary:
                if kk == 1:
                    t = 0 if (self._min >= 0 and self._max <= 1) else 1
                    hits, whits = self._bin_hits[t], self._bin_whits[t]
                else:
                    hits, whits = self._count, self._weight
            else:
                hits, whits = self._hits[i], self._whits[i]
            if not self._weighted:
                out.append(hits / self._count if self.normalize else float(hits))
            elif self.normalize:
                if self._weight == 0:
                    raise ZeroDivisionError("Weights sum to zero, can't be normalized")
                out.append(float(whits / self._weight))
            else:
                out.append(float(whits))
        if self._scalar:
            return out[0]
        return np.asarray(out, dtype=np.float64)

    def __repr__(self) -> str:
        return (
            f"TopKAccuracy(k={self.k!r}, normalize={self.normalize!r}, labels={self.labels!r}) "
            f"# {self._count} samples"
        )
