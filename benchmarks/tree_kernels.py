"""Tree kernels in process: scikit-learn, onnxruntime (as ``--accelerate`` compiles), treelite, TL2cgen.

For the serving benchmark's RandomForest (50 trees, depth 8, 10 features; ``benchmarks/_servers.py``)
and a HistGradientBoostingClassifier fit on the same rows, both saved by pack:

* scikit-learn's ``predict`` / ``predict_proba`` on a float64 array;
* onnxruntime as ``pack serve --accelerate`` runs it: ``pack.flavors.accelerate.accelerate`` on the
  saved model (skl2onnx in memory, pack's session options), timed on ``session.run`` and through
  pack's ``CompiledTrees.predict``;
* treelite's own predictor (GTIL, ``treelite.gtil.predict``) and a TL2cgen shared library (C generated
  from the treelite model, compiled with gcc), each through its Python API;
* native code as ``accelerate(runtimes=["native"])`` builds it (Spark's first choice): pack's forest
  kernel for the forest, TL2cgen's C behind pack's row loop for the boosting model; compiled afresh;

at 1 row (median latency of many calls) and 10,000 rows (rows/s), with the time to compile, and each
candidate's agreement with scikit-learn on the 10,000 rows (labels exactly, probabilities within
``pack.flavors.convert.RTOL``/``ATOL``: the check ``--accelerate`` applies). Then 1 row through
onnxruntime sessions with other options (threads, graph optimisation level, execution mode,
spinning), to see whether pack's are the best.

treelite and TL2cgen are not in the test environment: the script runs itself in a cached virtualenv
(``devtools.venvs.pack_serving_python`` plus the two). Needs gcc.

Usage: python benchmarks/tree_kernels.py [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402
from benchmarks.onnx_convert import timed  # noqa: E402  (median ms after three warm-up calls)

CANDIDATES = ("treelite==4.8.1", "tl2cgen==1.0.0")
ADOPT_AT = 1.5  # the speed-up over onnxruntime (at 1 row and at 10,000 rows) that would justify TL2cgen
TRUSTED = [  # skops types of the two models (pack.save_model refuses to guess)
    "sklearn.tree._tree.Tree",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]


def labels_of(probabilities: Any, classes: Any) -> Any:
    """Class labels from a tree compiler's probabilities (one column: the positive class's)."""
    import numpy as np

    if probabilities.shape[1] == 1:
        return classes[(probabilities[:, 0] > 0.5).astype(np.intp)]
    return classes[probabilities.argmax(axis=1)]


def full_proba(raw: Any) -> Any:
    """treelite's ``(rows, 1, classes)`` (or one positive column) as scikit-learn's ``(rows, classes)``."""
    import numpy as np

    out = raw.reshape(raw.shape[0], -1)
    return np.column_stack([1.0 - out[:, 0], out[:, 0]]) if out.shape[1] == 1 else out


def models(work: Path) -> dict[str, tuple[Any, Any, Path]]:
    """name -> (estimator, its training frame, the pack model directory)."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier

    import pack
    from benchmarks import _servers as servers

    rf_path, forest, frame = servers.train(work)
    _, target = make_classification(n_samples=2000, n_features=10, random_state=0)  # the forest's rows
    boosting = HistGradientBoostingClassifier(random_state=0).fit(frame, target)
    hgb_path = work / "hgb"
    pack.save_model(boosting, hgb_path, input_example=frame.head(5), skops_trusted_types=TRUSTED)
    return {
        "RandomForest (50 trees, depth 8)": (forest, frame, rf_path),
        f"HistGradientBoosting ({boosting.n_iter_} iterations, 31 leaves)": (boosting, frame, hgb_path),
    }


class Kernels:
    """The compiled forms of one estimator, each with a ``predict``-like and ``predict_proba``-like call."""

    def __init__(self, estimator: Any, frame: Any, path: Path, work: Path, threads: int) -> None:
        import onnxruntime as ort
        import tl2cgen
        import treelite

        import pack.pyfunc
        from pack.flavors.accelerate import accelerate, compiled_session
        from pack.flavors.convert import to_onnx

        self.estimator = estimator
        self.threads = threads
        self.compile_s: dict[str, float] = {}
        loaded = pack.pyfunc.load_model(path, model_config={"trusted_types": TRUSTED})
        os.environ["PACK_CACHE_DIR"] = str(work / f"{path.name}-cache")  # compiled afresh, not from the cache
        started = time.perf_counter()
        native = accelerate(loaded, {}, runtimes=["native"])
        self.native = native.model.predictor if native.artifact is not None else None
        if native.artifact is not None:
            self.native_name = f"{native.artifact.runtime}, pack's NativeTrees.predict (1 thread)"
            self.compile_s[f"{native.artifact.runtime} (pack --accelerate: generate, gcc -O2, load, verify)"] = (
                time.perf_counter() - started
            )
        started = time.perf_counter()
        outcome = accelerate(loaded, {}, runtimes=["onnxruntime"])
        self.onnx_refused = None if outcome.compiled else outcome.detail.split(" with name=")[0]
        if outcome.compiled:
            self.compile_s["onnxruntime (pack --accelerate: convert, session, verify)"] = time.perf_counter() - started
            self.compiled = outcome.model.predictor
            self.session: ort.InferenceSession = self.compiled._predictor.session  # type: ignore[attr-defined]
            self.input_name = self.session.get_inputs()[0].name
            self.label_output = self.session.get_outputs()[0].name
            proba_graph, self.proba_output = to_onnx(estimator, frame.head(5), "probabilities", double=True)
            self.proba_session = compiled_session(proba_graph.SerializeToString(), {})

        started = time.perf_counter()
        self.treelite_model = treelite.sklearn.import_model(estimator)
        imported = time.perf_counter() - started
        self.compile_s["treelite (import the scikit-learn model)"] = imported
        library = work / f"{path.name}.so"
        started = time.perf_counter()
        tl2cgen.export_lib(
            self.treelite_model, toolchain="gcc", libpath=library, params={"parallel_comp": threads}, nthread=threads
        )
        self.tl2cgen = tl2cgen.Predictor(library, nthread=threads)
        self.tl2cgen_one = tl2cgen.Predictor(library, nthread=1)
        self.compile_s["TL2cgen (import, generate C, gcc -O3, load the .so)"] = imported + time.perf_counter() - started
        self._tl2cgen = tl2cgen
        self.library = ctypes.CDLL(str(library))  # its own predict(): one row, no DMatrix, no threads
        self.library.predict.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        self.library.predict.restype = None
        self.outputs = (ctypes.c_int32 * 1)()
        self.library.get_num_class(self.outputs)  # one target: its number of outputs per row

    def direct(self, row: Any) -> Any:
        """Probabilities of one float64 row from the generated ``predict()`` (NaN-free rows only: the
        generated code reads a missing value from the same 8 bytes, TL2cgen's DMatrix fills them)."""
        import numpy as np

        result = np.zeros((1, self.outputs[0]))
        self.library.predict(row.ctypes.data, 0, result.ctypes.data)
        return full_proba(result)

    def calls(self, rows: Any) -> dict[str, tuple[Callable[[], Any], Callable[[], Any] | None]]:
        """Candidate -> (labels call, probabilities call) on ``rows`` (float64, C order)."""
        import numpy as np
        import treelite

        estimator, threads, classes = self.estimator, self.threads, self.estimator.classes_
        fast, fast_one, dmatrix = self.tl2cgen, self.tl2cgen_one, self._tl2cgen.DMatrix

        def gtil() -> Any:
            return full_proba(treelite.gtil.predict(self.treelite_model, rows, nthread=threads))

        def compiled_c(predictor: Any) -> Any:
            return full_proba(predictor.predict(dmatrix(rows)))

        out: dict[str, tuple[Callable[[], Any], Callable[[], Any] | None]] = {
            "scikit-learn": (lambda: estimator.predict(rows), lambda: estimator.predict_proba(rows)),
        }
        if self.onnx_refused is None:
            feed, label_out, proba_out = (
                {self.input_name: rows.astype(np.float64)},
                [self.label_output],
                [self.proba_output],
            )
            out[f"onnxruntime, session.run ({threads} threads, as pack)"] = (
                lambda: self.session.run(label_out, feed)[0],
                lambda: self.proba_session.run(proba_out, feed)[0],
            )
            out["onnxruntime, pack's CompiledTrees.predict"] = (lambda: self.compiled.predict(rows), None)
        if self.native is not None:
            native = self.native
            out[self.native_name] = (lambda: native.predict(rows), None)
        out[f"treelite GTIL ({threads} threads)"] = (lambda: labels_of(gtil(), classes), gtil)
        out[f"TL2cgen .so ({threads} threads)"] = (
            lambda: labels_of(compiled_c(fast), classes),
            lambda: compiled_c(fast),
        )
        out["TL2cgen .so (1 thread)"] = (lambda: labels_of(compiled_c(fast_one), classes), lambda: compiled_c(fast_one))
        return out


def agreement(expected: Any, got: Any) -> str:
    """``--accelerate``'s check on these outputs: "ok (max abs diff)" or why it would refuse."""
    from pack.errors import FlavorError
    from pack.flavors.convert import ATOL, RTOL, compare_outputs

    try:
        return f"ok ({compare_outputs(expected, got, RTOL, ATOL):.1g})"
    except FlavorError as exc:
        return f"**differs**: {str(exc).removeprefix('the ONNX model ')}"


def measure(kernels: Kernels, frame: Any, quick: bool) -> dict[str, dict[str, Any]]:
    """Candidate -> {"1 label ms", "1 proba ms", "10k label rows/s", "10k proba rows/s", "labels", "proba"}."""
    import numpy as np

    one = np.ascontiguousarray(frame.iloc[:1].to_numpy(dtype=np.float64))
    many = np.ascontiguousarray(frame.sample(10_000, replace=True, random_state=2).to_numpy(dtype=np.float64))
    single_calls, many_calls = (300, 5) if quick else (3000, 30)
    out: dict[str, dict[str, Any]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the estimators were fit on a DataFrame: the feature-name warning
        want_labels, want_proba = kernels.estimator.predict(many), kernels.estimator.predict_proba(many)
        for (name, (label, proba)), (_, (label_n, proba_n)) in zip(
            kernels.calls(one).items(), kernels.calls(many).items(), strict=True
        ):
            row: dict[str, Any] = {
                "1 label ms": timed(label, single_calls),
                "10k label rows/s": 10_000_000 / timed(label_n, many_calls),
                "labels": agreement(want_labels, label_n()),
            }
            if proba is not None and proba_n is not None:
                row["1 proba ms"] = timed(proba, single_calls)
                row["10k proba rows/s"] = 10_000_000 / timed(proba_n, many_calls)
                row["proba"] = agreement(want_proba, proba_n())
            out[name] = row
        classes, direct = kernels.estimator.classes_, kernels.direct
        proba_each = np.vstack([direct(many[i]) for i in range(len(many))])
        out["TL2cgen .so, its C predict() called directly (1 row)"] = {
            "1 label ms": timed(lambda: labels_of(direct(one), classes), single_calls),
            "1 proba ms": timed(lambda: direct(one), single_calls),
            "labels": agreement(want_labels, labels_of(proba_each, classes)),
            "proba": agreement(want_proba, proba_each),
        }
    return out


def session_variants(kernels: Kernels, frame: Any, quick: bool) -> dict[str, tuple[float, float]]:
    """``predict`` through sessions with other options than pack's: (1-row ms, 10,000-row rows/s)."""
    import numpy as np
    import onnxruntime as ort

    from pack.flavors.accelerate import compiled_session
    from pack.flavors.convert import to_onnx
    from pack.flavors.onnx import session_options

    if kernels.onnx_refused is not None:
        return {}
    graph, output = to_onnx(kernels.estimator, frame.head(5), None, double=True)  # as --accelerate compiles
    one = {kernels.input_name: np.ascontiguousarray(frame.iloc[:1].to_numpy(dtype=np.float64))}
    rows = frame.sample(10_000, replace=True, random_state=2).to_numpy(dtype=np.float64)
    many = {kernels.input_name: np.ascontiguousarray(rows)}
    level = ort.GraphOptimizationLevel

    def built(saved: dict[str, Any], spinning: bool = False) -> Any:
        options = session_options(saved, {})
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        return ort.InferenceSession(graph.SerializeToString(), options, providers=["CPUExecutionProvider"])

    sessions = {
        f"pack's ({kernels.threads} threads, sequential, all graph optimisations, no spinning)": compiled_session(
            graph.SerializeToString(), {}
        ),
        "1 thread": built({"intra_op_num_threads": 1}),
        f"{kernels.threads} threads, spinning": built({}, spinning=True),
        "1 thread, graph optimisations off": built(
            {"intra_op_num_threads": 1, "graph_optimization_level": int(level.ORT_DISABLE_ALL)}
        ),
        "1 thread, basic graph optimisations": built(
            {"intra_op_num_threads": 1, "graph_optimization_level": int(level.ORT_ENABLE_BASIC)}
        ),
        "1 thread, parallel execution mode": built({"intra_op_num_threads": 1, "execution_mode": "parallel"}),
        f"{kernels.threads} threads, parallel execution mode": built({"execution_mode": "parallel"}),
    }
    single_calls, many_calls = (500, 5) if quick else (5000, 30)
    return {
        name: (
            timed(lambda s=s: s.run([output], one), single_calls),
            10_000_000 / timed(lambda s=s: s.run([output], many), many_calls),
        )
        for name, s in sessions.items()
    }


def report(results: dict[str, Any]) -> str:
    lines = [
        "## Tree kernels: scikit-learn, onnxruntime (`--accelerate`), treelite GTIL and TL2cgen (in process)",
        "",
        f"{results['when']}, {results['machine']}, load average {results['load_before']:.1f} before and"
        f" {results['load_after']:.1f} after; {results['versions']}. The serving benchmark's forest and a"
        " HistGradientBoostingClassifier on the same 2,000 rows; 1 row: median ms of"
        f" {results['single_calls']} calls; 10,000 rows: rows/s of the median of {results['many_calls']} calls."
        " Labels: each runtime's own label output (onnxruntime) or the argmax of its probabilities (treelite,"
        " TL2cgen). Agreement: `--accelerate`'s check against scikit-learn on the 10,000 rows.",
    ]
    for model, data in results["models"].items():
        rows = data["rows"]
        lines += [
            "",
            f"### {model}",
            "",
            "| runtime | 1 row predict, ms | 1 row predict_proba, ms | 10,000 rows predict, rows/s"
            " | 10,000 rows predict_proba, rows/s | labels | probabilities |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, row in rows.items():
            cells = [
                f"{row['1 label ms']:.4f}",
                _ms(row.get("1 proba ms")),
                _rate(row.get("10k label rows/s")),
                _rate(row.get("10k proba rows/s")),
                row["labels"],
                row.get("proba", ""),
            ]
            lines.append(f"| {name} | {' | '.join(cells)} |")
        lines += ["", "| compile at load | seconds |", "|---|---|"]
        lines += [f"| {name} | {seconds:.2f} |" for name, seconds in data["compile"].items()]
        if data["onnx_refused"]:
            lines += ["", f"`--accelerate` leaves this model on scikit-learn: {data['onnx_refused']}."]
        else:
            lines += ["", "| onnxruntime session options, predict | 1 row, ms | 10,000 rows, rows/s |", "|---|---|---|"]
            lines += [f"| {name} | {ms:.4f} | {rate:,.0f} |" for name, (ms, rate) in data["sessions"].items()]
        lines += ["", verdict(rows)]
    return "\n".join(lines)


def verdict(rows: dict[str, dict[str, Any]]) -> str:
    """TL2cgen's speed-up over onnxruntime as pack runs it (else scikit-learn), against ``ADOPT_AT``."""
    base_name = next((name for name in rows if name.startswith("onnxruntime, session.run")), "scikit-learn")
    base = rows[base_name]
    tl2cgen = [row for name, row in rows.items() if name.startswith("TL2cgen")]
    one = base["1 label ms"] / min(row["1 label ms"] for row in tl2cgen)
    many = max(row.get("10k label rows/s", 0.0) for row in tl2cgen) / base["10k label rows/s"]
    passes = one >= ADOPT_AT and many >= ADOPT_AT
    return (
        f"TL2cgen (its fastest form at each size) against {base_name}, predict: {one:.2f}x at 1 row, {many:.2f}x at"
        f" 10,000 rows: {'at or above' if passes else 'not above'} the {ADOPT_AT}x at both that would justify it."
    )


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    from importlib import metadata

    from pack.flavors.threads import threads_per_worker

    if shutil.which("gcc") is None:
        raise SystemExit("TL2cgen compiles with gcc: install it (apt-get install gcc)")
    threads = threads_per_worker(1)
    work = Path(tempfile.mkdtemp(prefix="pack-bench-trees-"))
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": f"{platform.machine()} with {os.cpu_count()} CPUs, gcc {_gcc_version()}",
        "load_before": os.getloadavg()[0],
        "versions": ", ".join(
            f"{name} {metadata.version(name)}"
            for name in ("scikit-learn", "onnxruntime", "skl2onnx", "treelite", "tl2cgen", "numpy")
        ),
        "single_calls": 300 if args.quick else 3000,
        "many_calls": 5 if args.quick else 30,
        "models": {},
    }
    try:
        for name, (estimator, frame, path) in models(work).items():
            kernels = Kernels(estimator, frame, path, work, threads)
            results["models"][name] = {
                "rows": measure(kernels, frame, args.quick),
                "compile": kernels.compile_s,
                "sessions": session_variants(kernels, frame, args.quick),
                "onnx_refused": kernels.onnx_refused,
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_after"] = os.getloadavg()[0]
    return results


def _gcc_version() -> str:
    done = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Fewer calls (a smoke run).")
    parser.add_argument("--no-write", action="store_true", help="Print the section, do not write RESULTS.md.")
    args = parser.parse_args()
    try:
        import tl2cgen  # noqa: F401
        import treelite  # noqa: F401
    except ImportError:
        from devtools.venvs import pack_serving_python

        python = pack_serving_python(also=CANDIDATES, prefix="tree-kernels-venv")
        raise SystemExit(subprocess.run([str(python), __file__, *sys.argv[1:]], check=False).returncode) from None
    body = report(run(args))
    print(body)
    if not args.no_write:
        write_section("tree_kernels", body)


if __name__ == "__main__":
    main()
