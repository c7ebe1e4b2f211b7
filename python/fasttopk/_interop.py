"""Arrays from other libraries in, results back in the caller's library.

Inputs: PyTorch CPU tensors (also with requires_grad, non-contiguous, bfloat16) and JAX CPU
arrays are read in place through DLPack, as is anything else exposing ``__dlpack__``; arrays
on a GPU (or any other device) are refused with a TypeError that says to move them to the CPU.
Outputs: a torch tensor in gives torch tensors out, wrapping our NumPy buffers (no copy); a JAX
array in gives JAX arrays out; anything else gives NumPy. Each public function of _api starts
with ``if type(x) is not np.ndarray and library_of(x): return call_in_library(...)``, which
costs NumPy callers one type check; other producers are converted in ``_as_real_array``.

torch and jax are never imported here: a tensor of theirs can only exist once they are, so
they are taken from ``sys.modules`` when the input's type comes from their modules.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np
import numpy.typing as npt

# DLPack's device types (dlpack.h, DLDeviceType): the ones whose memory the CPU reads directly.
_DLPACK_CPU_DEVICES = {1: "cpu", 3: "cuda_host", 11: "rocm_host"}
_DLPACK_DEVICE_NAMES = {
    2: "cuda", 4: "opencl", 7: "vulkan", 8: "metal", 9: "vpi", 10: "rocm", 12: "ext_dev",
    13: "cuda_managed", 14: "oneapi", 15: "webgpu", 16: "hexagon", 17: "maia",
}

TORCH, JAX = "torch", "jax"


def _bfloat16_dtype() -> np.dtype[Any]:
    """ml_dtypes' bfloat16 when it is installed, else the raw bfloat16 bits the core reads."""
    try:
        import ml_dtypes
    except ImportError:
        from ._layout import BFLOAT16_BITS

        return BFLOAT16_BITS
    bfloat16: np.dtype[Any] = np.dtype(ml_dtypes.bfloat16)  # (ml_dtypes' scalar types are Any)
    return bfloat16


def library_of(x: object) -> str | None:
    """The library whose results the caller expects back: torch, JAX, or NumPy (None).

    Costs one attribute lookup for NumPy arrays and lists (the common case); never imports
    torch or JAX.

    Parameters
    ----------
    x : object
        An argument of a public function.

    Returns
    -------
    {"torch", "jax"} or None
        ``"torch"`` for a ``torch.Tensor``, ``"jax"`` for a ``jax.Array``, None otherwise.

    See Also
    --------
    call_in_library : runs a function on such an array and converts the results back.

    Examples
    --------
    >>> import numpy as np
    >>> from fasttopk._interop import library_of
    >>> library_of(np.zeros(3)) is None
    True
    """
    module = type(x).__module__
    if module.startswith("torch"):
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(x, torch.Tensor):
            return TORCH
    elif module.startswith("jax"):  # jax.Array's implementation lives in jaxlib
        jax = sys.modules.get("jax")
        if jax is not None and isinstance(x, jax.Array):
            return JAX
    return None


def _device_error(name: str, device: str) -> TypeError:
    """The error for an array on a device the CPU cannot read, with how to move it."""
    return TypeError(
        f"{name} is on the {device} device; fasttopk computes on the CPU: move it there first "
        "(torch: tensor.cpu(), JAX: jax.device_put(array, jax.devices('cpu')[0]), CuPy: array.get())"
    )


def _torch_to_numpy(t: Any, name: str) -> npt.NDArray[Any]:
    torch = sys.modules["torch"]
    if t.device.type != "cpu":
        raise _device_error(name, str(t.device))
    if t.layout != torch.strided:
        raise TypeError(f"{name}: a {t.layout} torch tensor is not supported; call {name}.to_dense()")
    t = t.detach()  # a view sharing memory: what requires_grad forbids is writing, not reading
    if t.is_conj() or t.is_neg():
        t = t.resolve_conj().resolve_neg()  # lazy-negation bits NumPy cannot express
    if t.dtype == torch.bfloat16:
        # NumPy has no DLPack bfloat16: the same bits as int16 (a view), then named bfloat16.
        return np.from_dlpack(t.view(torch.int16)).view(_bfloat16_dtype())
    try:
        return np.from_dlpack(t)
    except (BufferError, TypeError, RuntimeError):  # a dtype DLPack cannot carry
        return np.asarray(t.numpy())


def _jax_to_numpy(a: Any, name: str) -> npt.NDArray[Any]:
    platforms = {d.platform for d in a.devices()}
    if platforms != {"cpu"}:
        raise _device_error(name, "/".join(sorted(platforms)))
    try:
        return np.from_dlpack(a)
    except (BufferError, TypeError, RuntimeError):
        # bfloat16 (no DLPack code NumPy knows) and the like: JAX's own NumPy view, which on
        # the CPU is its buffer, typed with ml_dtypes.
        return np.asarray(a)


def _dlpack_to_numpy(x: Any, name: str) -> npt.NDArray[Any]:
    device = getattr(x, "__dlpack_device__", None)
    if device is not None:
        device_type = int(device()[0])
        if device_type not in _DLPACK_CPU_DEVICES:
            raise _device_error(name, _DLPACK_DEVICE_NAMES.get(device_type, f"DLPack type {device_type}"))
    try:
        return np.from_dlpack(x)
    except (BufferError, TypeError, RuntimeError, ValueError) as exc:
        if hasattr(x, "__array__"):
            return np.asarray(x)
        raise TypeError(f"{name}: cannot read {type(x).__name__} through DLPack ({exc})") from exc


def as_numpy(x: Any, name: str = "x") -> Any:
    """`x` as a NumPy array read in place when it is a torch/JAX/DLPack array.

    Parameters
    ----------
    x : object
        An argument of a public function.
    name : str, default "x"
        The argument's name in error messages.

    Returns
    -------
    numpy.ndarray or object
        A NumPy array sharing the memory of a torch tensor (also with requires_grad), a JAX
        CPU array or another ``__dlpack__`` producer (bfloat16 as ml_dtypes' bfloat16, or as
        2-byte raw values without ml_dtypes); anything else (NumPy arrays, lists, objects
        with ``__array__``) unchanged.

    Raises
    ------
    TypeError
        The array is on a GPU or another device (the message says how to move it to the
        CPU), is a sparse torch tensor, or cannot be read through DLPack.

    See Also
    --------
    numpy.from_dlpack : the reader used for every producer.

    Examples
    --------
    >>> import numpy as np
    >>> from fasttopk._interop import as_numpy
    >>> x = np.arange(3.0)
    >>> as_numpy(x) is x
    True
    >>> as_numpy([1, 2])
    [1, 2]
    """
    if isinstance(x, np.ndarray):
        return x
    library = library_of(x)
    if library == TORCH:
        return _torch_to_numpy(x, name)
    if library == JAX:
        return _jax_to_numpy(x, name)
    if hasattr(x, "__dlpack__"):
        return _dlpack_to_numpy(x, name)
    return x


# --- results in the caller's library ------------------------------------------------------


def _is_bfloat16(dtype: np.dtype[Any]) -> bool:
    return dtype.kind == "V" and dtype.itemsize == 2


def _to_torch(a: Any) -> Any:
    torch = sys.modules["torch"]
    if not isinstance(a, (np.ndarray, np.generic)) or a.dtype.kind not in "biufV":
        return a  # labels and other non-numeric fields stay as they are
    a = np.asarray(a)  # a NumPy scalar becomes a 0-d array: torch.argmax gives 0-d tensors
    if _is_bfloat16(a.dtype):
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    if not a.flags.writeable:  # torch wants writable memory; ours always is, except scalars
        a = a.copy()
    return torch.from_numpy(a)


def _to_jax(a: Any) -> Any:
    if not isinstance(a, (np.ndarray, np.generic)) or a.dtype.kind not in "biufV":
        return a
    # JAX's own dtype rules apply (int64 indices become int32 unless jax_enable_x64 is on), as
    # in what jax.numpy returns. DLPack hands JAX our buffer without a copy when it is aligned
    # as XLA wants (64 bytes); otherwise, and for bfloat16 (no DLPack code in NumPy), JAX
    # copies it once.
    jax = sys.modules["jax"]
    a = np.asarray(a)
    if not _is_bfloat16(a.dtype):
        try:
            return jax.dlpack.from_dlpack(a)
        except (BufferError, TypeError, RuntimeError, ValueError):
            pass
    return jax.numpy.asarray(a)


def to_library(result: Any, library: str | None) -> Any:
    """A result given back in the caller's library.

    Parameters
    ----------
    result : numpy.ndarray, NumPy scalar, or tuple or namedtuple of them
        What a function computed with NumPy. Non-numeric arrays (class labels) stay NumPy.
    library : {"torch", "jax"} or None
        What :func:`library_of` said of the input; None returns `result` as it is.

    Returns
    -------
    object
        `result` with each numeric array as a torch tensor sharing its memory, or as a JAX
        array (JAX's dtype rules apply: int64 indices become int32 without jax_enable_x64);
        a namedtuple keeps its type.

    See Also
    --------
    library_of : the library of an input.

    Examples
    --------
    >>> import numpy as np
    >>> from fasttopk._interop import to_library
    >>> to_library(np.array([1, 2]), None)
    array([1, 2])
    """
    if library is None:
        return result
    convert = _to_torch if library == TORCH else _to_jax
    if isinstance(result, tuple):
        fields = [convert(r) for r in result]
        return type(result)(*fields) if hasattr(result, "_fields") else tuple(fields)
    return convert(result)


def _out_to_numpy(out: Any) -> tuple[Any, bool]:
    """`out` as NumPy arrays sharing its memory; True when it held torch tensors. JAX arrays
    are immutable: they cannot be an out= (the checks refuse them as not an ndarray)."""
    if isinstance(out, (tuple, list)):
        converted = [_out_to_numpy(o)[0] for o in out]
        rebuilt = type(out)(*converted) if hasattr(out, "_fields") else type(out)(converted)
        return rebuilt, any(library_of(o) == TORCH for o in out)
    if library_of(out) == TORCH:
        return _torch_to_numpy(out, "out"), True
    return out, False


def call_in_library(fn: Callable[..., Any], x: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(x, ...)`` for a torch or JAX `x`, the results given back in its library.

    Parameters
    ----------
    fn : callable
        A public function, called with NumPy arrays.
    x : torch.Tensor or jax.Array
        Its first argument, read as NumPy in place.
    *args, **kwargs
        Its other arguments. An ``out=`` holding torch tensors is filled in place through
        NumPy views of their memory.

    Returns
    -------
    object
        ``fn``'s result in `x`'s library; the caller's own ``out=`` tensors when given.

    See Also
    --------
    as_numpy : how `x` is read; to_library : how the result is converted.

    Examples
    --------
    >>> import torch
    >>> import fasttopk
    >>> from fasttopk._interop import call_in_library
    >>> call_in_library(fasttopk.argmax, torch.tensor([[1.0, 3.0, 2.0]]))
    tensor([1])
    """
    library = library_of(x)
    x = as_numpy(x, "x")
    out = kwargs.get("out")
    if out is None:
        return to_library(fn(x, *args, **kwargs), library)
    # out= decides the result type: the caller's own arrays come back, filled in place.
    kwargs["out"], torch_out = _out_to_numpy(out)
    result = fn(x, *args, **kwargs)
    if not torch_out:
        return result
    return type(result)(*out) if hasattr(result, "_fields") else out
