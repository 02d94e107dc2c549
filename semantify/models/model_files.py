"""Where licensed model files live, and reading them safely (no chumpy, no arbitrary pickles).

Files are looked up under ``SEMANTIFY_MODELS_DIR`` (default ``$SEMANTIFY_CACHE_DIR/models``,
else ``~/.cache/semantify/models``) in the ``smplx`` package's folder layout::

    smpl/SMPL_{NEUTRAL,MALE,FEMALE}.pkl     (or .npz)
    smplx/SMPLX_{NEUTRAL,MALE,FEMALE}.npz   (or .pkl)
    flame/FLAME_NEUTRAL.pkl                 (or FLAME 2020's generic_model.pkl)
    smal/SMAL.pkl                           (or smal_CVPR2017.pkl)

Original ``.pkl`` files pickle chumpy objects and scipy sparse matrices. They are read by
:class:`ArrayUnpickler`, which rebuilds numpy arrays only: chumpy and scipy sparse objects
become inert stand-ins holding their arrays, and any other Python object is refused, so a
hostile file cannot run code.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from semantify import limits
from semantify.errors import SemantifyError

# kind -> (folder, candidate file names with {G} for the upper-case gender, where to get it)
LAYOUT = {
    "smpl": ("smpl", ("SMPL_{G}.pkl", "SMPL_{G}.npz"), "https://smpl.is.tue.mpg.de"),
    "smplx": ("smplx", ("SMPLX_{G}.npz", "SMPLX_{G}.pkl"), "https://smpl-x.is.tue.mpg.de"),
    "flame": ("flame", ("FLAME_NEUTRAL.pkl", "generic_model.pkl", "FLAME_NEUTRAL.npz"),
              "https://flame.is.tue.mpg.de"),
    "smal": ("smal", ("SMAL.pkl", "smal_CVPR2017.pkl", "SMAL.npz"), "https://smal.is.tue.mpg.de"),
}


def models_dir() -> Path:
    """The folder holding licensed model files (absolute)."""
    if os.environ.get("SEMANTIFY_MODELS_DIR"):
        return Path(os.environ["SEMANTIFY_MODELS_DIR"]).expanduser().absolute()
    from semantify.paths import default_models_dir

    return default_models_dir()


def _candidates(kind: str, gender: str) -> list[Path]:
    if kind not in LAYOUT:
        raise SemantifyError(
            f"unknown model file kind {kind!r}; choose one of {', '.join(LAYOUT)}.")
    folder, names, _ = LAYOUT[kind]
    return [models_dir() / folder / name.format(G=gender.upper()) for name in names]


def expected_path(kind: str, gender: str = "neutral") -> Path:
    """The first existing candidate file of ``kind`` (smpl, smplx, flame, smal), else the
    canonical one (which does not exist)."""
    candidates = _candidates(kind, gender)
    return next((path for path in candidates if path.is_file()), candidates[0])


def missing_hint(path: Path) -> str:
    """One line telling where to put the missing model file ``path`` and where to get it."""
    path = Path(path)
    url = next((url for folder, _, url in LAYOUT.values() if folder == path.parent.name),
               "the model's website")
    return (f"put {path.name} (from {url}, licence required) at {path} "
            "or set SEMANTIFY_MODELS_DIR")


class _ChumpyStandIn:
    """Stands in for a pickled chumpy object; a plain ``Ch`` keeps its value in state ``x``."""

    def __setstate__(self, state):
        self.state = state if isinstance(state, dict) else {}

    def array(self, path: Path) -> np.ndarray:
        value = getattr(self, "state", {}).get("x")
        if not isinstance(value, np.ndarray):
            raise SemantifyError(
                f"model file {path} holds a chumpy expression ({type(self).__name__}) rather "
                "than a plain array; convert the file to .npz with plain arrays."
            )
        return value


class _SparseStandIn:
    """Stands in for a pickled scipy CSC/CSR matrix; :meth:`array` densifies it."""

    compressed_axis = 1  # CSC: indptr runs over columns

    def __setstate__(self, state):
        self.state = state if isinstance(state, dict) else {}

    def array(self, path: Path) -> np.ndarray:
        state = getattr(self, "state", {})
        try:
            shape = tuple(int(n) for n in state.get("_shape", state.get("shape")))
            data, indices, indptr = (np.asarray(state[k]) for k in ("data", "indices", "indptr"))
            dense = np.zeros(shape, dtype=data.dtype)
            lines = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
            if self.compressed_axis == 1:
                dense[indices, lines] = data
            else:
                dense[lines, indices] = data
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise SemantifyError(
                f"model file {path} holds a malformed sparse matrix ({error}); re-download it."
            ) from None
        return dense


class _CSRStandIn(_SparseStandIn):
    compressed_axis = 0


def _safe_reconstructor(cls, base, state):
    """``copyreg._reconstructor`` for stand-ins only (protocol 0/1 pickles of objects)."""
    if not (isinstance(cls, type) and issubclass(cls, (_ChumpyStandIn, _SparseStandIn))
            and base is object and state is None):
        raise pickle.UnpicklingError("copyreg._reconstructor on a non-array class")
    return object.__new__(cls)


_FROMBUFFER = np.zeros(1).__reduce_ex__(5)[0]
# Python functions are handed out as fresh wrappers, so a pickle's BUILD cannot alter the
# attributes of numpy's own functions or ours.
_NUMPY = {
    "_reconstruct": lambda: np.zeros(1).__reduce__()[0],
    "scalar": lambda: np.float64(0).__reduce__()[0],
    "_frombuffer": lambda: lambda *args: _FROMBUFFER(*args),
    "ndarray": lambda: np.ndarray,
    "dtype": lambda: np.dtype,
}
_BUILTINS = {"set": set, "frozenset": frozenset, "object": object, "bytearray": bytearray}


class ArrayUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, plain containers and chumpy/scipy-sparse stand-ins; refuses
    every other global, so loading never runs code from the file."""

    def __init__(self, file, path: Path):
        super().__init__(file, encoding="latin1")
        self.path = path

    def find_class(self, module: str, name: str):
        if module.startswith("numpy") and name in _NUMPY:
            return _NUMPY[name]()
        if module in ("builtins", "__builtin__") and name in _BUILTINS:
            return _BUILTINS[name]
        if module in ("copyreg", "copy_reg") and name == "_reconstructor":
            return lambda cls, base, state: _safe_reconstructor(cls, base, state)
        if module == "_codecs" and name == "encode":  # protocol-2 bytes written by Python 3
            import codecs

            return codecs.encode
        if module == "chumpy" or module.startswith("chumpy."):
            return type(name, (_ChumpyStandIn,), {})
        if module.startswith("scipy.sparse") and name in ("csc_matrix", "csc_array"):
            return _SparseStandIn
        if module.startswith("scipy.sparse") and name in ("csr_matrix", "csr_array"):
            return _CSRStandIn
        raise SemantifyError(
            f"model file {self.path} contains a Python object of type {module}.{name} that "
            "Semantify refuses to unpickle; convert it to .npz."
        )


def _as_array(value, path: Path):
    if isinstance(value, (_ChumpyStandIn, _SparseStandIn)):
        return value.array(path)
    if isinstance(value, (list, tuple)):
        return np.asarray(value)
    return value


def _unreadable(path: Path, error: Exception) -> SemantifyError:
    return SemantifyError(
        f"cannot read model file {path} ({type(error).__name__}: {error}); "
        "re-download it or convert it to .npz."
    )


def _read_pickle(path: Path) -> dict:
    try:
        data = ArrayUnpickler(io.BytesIO(path.read_bytes()), path).load()
    except SemantifyError:
        raise
    except Exception as error:  # a corrupt pickle can raise almost any error type
        raise _unreadable(path, error) from None
    if not isinstance(data, dict):
        raise SemantifyError(
            f"model file {path} holds a {type(data).__name__}, not a dict of arrays; "
            "re-download it."
        )
    return data


def read_arrays(path: Path, required: Iterable[str], optional: Iterable[str] = ()) -> dict:
    """Read keys of a model file (.pkl or .npz) as numpy arrays (strings stay strings).

    Every key in ``required`` must be present (else a one-line error naming it); keys in
    ``optional`` are returned when present. Nothing is unpickled beyond numpy arrays.
    """
    path = Path(path)
    if not path.is_file():
        raise SemantifyError(f"model file {path} not found; {missing_hint(path)}.")
    required, optional = list(required), list(optional)
    out: dict = {}
    if path.suffix == ".npz":
        _check_unpacked_size(path, set(required + optional))
        try:
            with np.load(path, allow_pickle=False) as npz:
                keys = set(npz.files)
                for key in [k for k in required + optional if k in keys]:
                    out[key] = npz[key]
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
            raise _unreadable(path, error) from None
    else:
        if path.stat().st_size > limits.MAX_MODEL_FILE_BYTES:
            raise _too_large(path)
        data = _read_pickle(path)
        out = {k: _as_array(data[k], path) for k in required + optional if k in data}
    missing = [k for k in required if k not in out]
    if missing:
        raise SemantifyError(
            f"model file {path} lacks the key(s) {', '.join(missing)}; "
            "it is not a model of this kind, or is damaged: re-download it."
        )
    return out


def _too_large(path: Path) -> SemantifyError:
    return SemantifyError(f"model file {path} unpacks to more than "
                          f"{limits.MAX_MODEL_FILE_BYTES / 1e9:.1f} GB; no model needs that much: "
                          "check the file.")


def _check_unpacked_size(path: Path, keys: set[str]) -> None:
    """Refuse an .npz whose arrays would take more than MAX_MODEL_FILE_BYTES once read, from
    the sizes its .npy headers declare, before any array is allocated (a 2 MB file can unpack
    to gigabytes)."""
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.removesuffix(".npy") not in keys:
                    continue
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(member)
                total += int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
                if total > limits.MAX_MODEL_FILE_BYTES:
                    raise _too_large(path)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise _unreadable(path, error) from None

