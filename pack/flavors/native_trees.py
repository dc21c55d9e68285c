"""Compiling a scikit-learn tree ensemble to native code: C source, built into a shared library by the
system's C compiler (``$CC``, else ``gcc``), called through ctypes.

The source: random forests, extra trees and single decision trees as arrays walked by pack's own
kernel (``pack.flavors.forest_kernel``: equal answers, no dependency besides the compiler); gradient
boosting as TL2cgen writes it (``pack.flavors.boosting_source``). Either library exports
``pack_predict_rows`` (a block of float64 rows in, one row of outputs each out) and ``pack_row_width``.

Why (``benchmarks/tree_kernels.py``): on the serving benchmark's forest, 10,000-row blocks score about
3x faster than scikit-learn on one core (and 2x onnxruntime's tree kernel on two), and a
HistGradientBoosting model (which skl2onnx cannot convert) 2-100x faster than scikit-learn. The price
is a C compiler where the model is compiled and a fraction of a second of it (TL2cgen's code: about
a second); libraries are cached by the hash of their sources (``PACK_CACHE_DIR``, else
``~/.cache/pack``), so a model compiles once per machine. Nothing in the model directory changes.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from pack.errors import FlavorError
from pack.flavors.boosting_source import boosting_sources
from pack.flavors.forest_kernel import FORESTS, forest_source
from pack.flavors.table import NumericTable
from pack.types import Params

COMPILE_TIMEOUT_S = 600
_FLAGS = ("-O2", "-fPIC")


@dataclass(frozen=True)
class NativeLibrary:
    """A tree ensemble compiled to a shared library, and the evidence it was verified against.

    Attributes:
        path: the library (None in a plan shipped without it: see ``located``).
        answer: what ``predict`` returns: ``labels``, ``probabilities`` or ``values``.
        classes: the class labels (classifiers), in the order of the library's outputs.
        n_features: the width of a row.
        flat: scikit-learn answered a 1-D array.
        example_output: scikit-learn's predictions on the model's input example.
        runtime: what made the library (pack's forest kernel, or TL2cgen).
    """

    path: Path | None
    answer: str
    classes: Any
    n_features: int
    flat: bool
    example_output: Any
    runtime: str = "native code"
    file_name: ClassVar[str] = "pack-compiled-trees.so"

    def payload(self) -> bytes:
        """The library's bytes, to ship."""
        return self._file().read_bytes()

    def shipped(self) -> NativeLibrary:
        """This library's description without its file (which travels apart)."""
        return replace(self, path=None)

    def located(self, directory: Path) -> NativeLibrary:
        """The library shipped as ``directory / file_name``."""
        return replace(self, path=directory / self.file_name)

    def predictor(self, config: Mapping[str, Any]) -> NativeTrees:
        """The library loaded into this process (``config`` is not used: one thread per call).

        Raises:
            FlavorError: the file is not a library this machine can load.
        """
        path = self._file()
        try:
            library = ctypes.CDLL(str(path))
            width = int(library.pack_row_width())
        except (OSError, AttributeError) as exc:
            raise FlavorError(f"cannot load the compiled trees {path.name}: {exc}") from None
        return NativeTrees(library, width, self)

    def _file(self) -> Path:
        if self.path is None:
            raise FlavorError("the compiled trees' library was not shipped with this plan")
        return self.path


class NativeTrees:
    """A ``Predictor`` calling ``pack_predict_rows``; answers in scikit-learn's shape."""

    takes_tables = True

    def __init__(self, library: ctypes.CDLL, width: int, compiled: NativeLibrary) -> None:
        self._function = library.pack_predict_rows
        self._function.restype = None
        self._function.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
        self._width = width
        self._compiled = compiled
        import numpy as np  # lazy: keeps the module light

        self._classes: Any = np.asarray(compiled.classes)  # once, not per call

    def predict(self, data: Any, params: Params | None = None) -> Any:
        import numpy as np  # lazy: keeps the module light

        if isinstance(data, NumericTable):
            data = data.values
        elif hasattr(data, "to_numpy"):
            data = data.to_numpy()
        rows = np.ascontiguousarray(data, dtype="float64")
        if rows.ndim != 2 or rows.shape[1] != self._compiled.n_features:
            raise FlavorError(f"the compiled trees take rows of {self._compiled.n_features} numbers, not {rows.shape}")
        out = np.empty((len(rows), self._width), dtype="float64")
        self._function(rows.ctypes.data, len(rows), rows.shape[1], out.ctypes.data)  # ctypes drops the GIL
        if self._compiled.answer == "values":
            return out[:, 0] if self._compiled.flat else out
        if self._width == 1:  # a binary classifier's library answers the positive class's probability
            out = np.column_stack([1.0 - out[:, 0], out[:, 0]])
        if self._compiled.answer == "probabilities":
            return out
        return self._classes.take(out.argmax(axis=1))


def compile_library(estimator: Any, answer: str, expected: Any) -> NativeLibrary:
    """``estimator`` (a bare scikit-learn tree ensemble) compiled, or found compiled in the cache.

    Args:
        answer: ``labels``, ``probabilities`` or ``values`` (what the model's ``predict_fn`` returns).
        expected: scikit-learn's predictions on the input example (kept as the evidence to check).

    Raises:
        MissingDependency: treelite or TL2cgen is not installed (gradient boosting).
        FlavorError: the estimator cannot be compiled, or there is no C compiler, or it failed.
    """
    name = type(estimator).__name__
    if getattr(estimator, "n_outputs_", 1) != 1:
        raise FlavorError(f"native code: {name} with several outputs is not compiled")
    compiler = shutil.which(os.environ.get("CC") or "gcc")
    if compiler is None:
        raise FlavorError("no C compiler (gcc, or $CC) to compile the trees with")
    with tempfile.TemporaryDirectory(prefix="pack-trees-") as work:
        sources = Path(work)
        if name in FORESTS:
            (sources / "forest.c").write_text(forest_source(estimator, answer))
            runtime, flags = "native code (pack's forest kernel)", list(_FLAGS)
        else:
            runtime, flags = "native code (treelite + TL2cgen)", [*_FLAGS, *boosting_sources(estimator, sources)]
        path = _build(compiler, flags, sources)
    return NativeLibrary(
        path,
        answer,
        tuple(estimator.classes_) if answer == "labels" else None,
        int(estimator.n_features_in_),
        getattr(expected, "ndim", 0) == 1,
        expected,
        runtime,
    )


def _build(compiler: str, flags: list[str], sources: Path) -> Path:
    """The library of the C files in ``sources``, from the cache when the same sources were built."""
    files = sorted(sources.glob("*.[ch]"))
    digest = hashlib.sha256(repr((_compiler_version(compiler), flags)).encode())
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    cache = Path(os.environ.get("PACK_CACHE_DIR") or Path.home() / ".cache" / "pack") / "trees"
    target = cache / f"{digest.hexdigest()[:32]}.so"
    if _only_mine(target) and _only_mine(cache):  # a library someone else could have written is not loaded
        return target
    objects = [sources / f"{file.stem}.o" for file in files if file.suffix == ".c"]
    compiles = [
        subprocess.Popen([compiler, *flags, "-c", str(obj.with_suffix(".c")), "-o", str(obj)], stderr=subprocess.PIPE)
        for obj in objects
    ]
    for process in compiles:
        _finish(process)
    built = sources / "trees.so"
    _finish(
        subprocess.Popen([compiler, "-shared", "-o", str(built), *map(str, objects), "-lm"], stderr=subprocess.PIPE)
    )
    try:
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _only_mine(cache):
            raise OSError(f"{cache} is writable by others")
        staged = cache / f".{target.name}.{os.getpid()}"
        shutil.copyfile(built, staged)
        staged.chmod(0o644)
        os.replace(staged, target)  # whole or absent, whoever else compiles the same trees
    except OSError:  # no cache (or not a private one): keep the library in a private directory
        target = Path(tempfile.mkdtemp(prefix="pack-trees-")) / target.name
        shutil.copyfile(built, target)
    return target


def _only_mine(path: Path) -> bool:
    """``path`` exists, belongs to this user and nobody else may write to it."""
    try:
        status = path.stat()
    except OSError:
        return False
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _finish(process: subprocess.Popen[bytes]) -> None:
    try:
        _, errors = process.communicate(timeout=COMPILE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        raise FlavorError(f"compiling the trees took more than {COMPILE_TIMEOUT_S} s") from None
    if process.returncode != 0:
        lines = errors.decode(errors="replace").strip().splitlines()
        raise FlavorError(f"compiling the trees failed: {lines[-1] if lines else f'exit {process.returncode}'}")


def _compiler_version(compiler: str) -> str:
    return subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False).stdout


__all__ = ["NativeLibrary", "NativeTrees", "compile_library"]
