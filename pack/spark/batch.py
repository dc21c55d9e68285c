"""Scoring a dataset larger than memory with Spark: read it, add the prediction column, write Parquet.

The output holds every input column plus the prediction, partitioned as the input was (its
``key=value`` directories). It is written beside its final place and renamed there only when
complete, so a failed job leaves no partial output. CSV columns named in the model's signature are
read as the signature's types. Spark failures come back as pack errors with one-line messages (an
error a model raised in an executor keeps its pack class).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import col

from pack import errors
from pack.errors import AlreadyExists, InvalidInput, ModelError, NotFound, PackError
from pack.flavors.schema import ColSpec, DataType, Schema
from pack.spark.locate import LocatedModel
from pack.spark.results import spark_type
from pack.spark.udf import ModelUDF, spark_udf

INPUT_FORMATS = ("parquet", "csv", "json")
_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".json": "json", ".jsonl": "json"}
_JOB_GROUP = "pack-predict"


@dataclass(frozen=True)
class Progress:
    """Tasks of the scoring job done so far (Spark's unit of progress)."""

    done: int
    total: int


@dataclass(frozen=True)
class BatchResult:
    """What a finished scoring job did."""

    rows: int
    seconds: float
    output: Path
    model: LocatedModel
    acceleration: str | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def local_session(master: str) -> SparkSession:
    """A SparkSession for the command line: Spark logs only fatal errors (failures come back as pack
    errors); on a local master the Python workers run this interpreter."""
    if master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    quiet = Path(__file__).with_name("log4j2.properties")
    session = (
        SparkSession.builder.master(master)
        .appName("pack predict")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={quiet.as_uri()}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("FATAL")  # pyspark's shell mode resets the root level at start
    return session


def check_paths(input_path: Path, output_path: Path) -> None:
    """Fail early, before Spark starts, on a missing input or an output that exists.

    Raises:
        NotFound: no input. AlreadyExists: the output exists.
    """
    if not input_path.exists():
        raise NotFound(f"no input at {input_path}")
    if output_path.exists():
        raise AlreadyExists(f"{output_path} already exists; choose a new output")


def score_dataset(
    spark: SparkSession,
    model_uri: str,
    input_path: Path,
    output_path: Path,
    *,
    input_format: str | None = None,
    result_column: str = "prediction",
    model_config: dict[str, Any] | None = None,
    accelerate: bool = False,
    safe_only: bool | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> BatchResult:
    """Score every row of ``input_path`` into Parquet at ``output_path``.

    ``accelerate`` and ``safe_only`` are ``spark_udf``'s.

    Raises:
        NotFound: no input, or nothing at the model URI.
        AlreadyExists: the output exists.
        InvalidInput: an unknown input format, a result column that exists, unreadable data.
        SchemaError: the input's columns do not fit the model's signature.
        UnsafeModel: the safe-only policy is on and the model holds executable content.
        ModelError: the model failed in an executor.
    """
    check_paths(input_path, output_path)
    kind = detect_format(input_path, input_format)
    partitions = partition_columns(input_path)
    started = time.monotonic()
    with _spark_errors():
        udf = spark_udf(spark, model_uri, model_config=model_config, accelerate=accelerate, safe_only=safe_only)
        frame = _read(spark, kind, input_path, udf.inputs)
        if result_column in frame.columns:
            raise InvalidInput(f"the input already has a column {result_column!r}; pass another result column name")
        scored = frame.withColumn(result_column, _apply(udf, frame, partitions))
        partial = output_path.parent / f".{output_path.name}.{uuid.uuid4().hex[:8]}.partial"
        try:
            with _reporting(spark, on_progress):
                scored.write.partitionBy(*partitions).parquet(str(partial))
            os.replace(partial, output_path)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return BatchResult(
        rows=parquet_rows(output_path),
        seconds=time.monotonic() - started,
        output=output_path,
        model=udf.model,
        acceleration=udf.acceleration,
    )


def detect_format(path: Path, given: str | None) -> str:
    """The input's format: ``given``, else by the suffix of the path or of the files in it.

    Raises:
        InvalidInput: unknown, or not recognisable.
    """
    if given is not None:
        if given not in INPUT_FORMATS:
            raise InvalidInput(f"unknown input format {given!r} (choose from {', '.join(INPUT_FORMATS)})")
        return given
    files = [path] if path.is_file() else _data_files(path)
    for file in files:
        if file.suffix.lower() in _SUFFIXES:
            return _SUFFIXES[file.suffix.lower()]
    raise InvalidInput(f"cannot tell the format of {path}: pass --input-format ({', '.join(INPUT_FORMATS)})")


def partition_columns(path: Path) -> list[str]:
    """The ``key=value`` directory levels of a partitioned dataset, outermost first."""
    if path.is_file():
        return []
    for file in _data_files(path):
        return [part.split("=", 1)[0] for part in file.relative_to(path).parent.parts if "=" in part]
    return []


def parquet_rows(path: Path) -> int:
    """Rows in a Parquet dataset, from the files' footers (no data read)."""
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(file).num_rows for file in _data_files(path) if file.suffix == ".parquet")


def _data_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in sorted(filenames):
            if not name.startswith((".", "_")):
                yield Path(dirpath, name)


def _read(spark: SparkSession, kind: str, path: Path, inputs: Schema | None) -> DataFrame:
    if kind == "parquet":
        return spark.read.parquet(str(path))
    if kind == "json":
        return spark.read.json(str(path))
    frame = spark.read.csv(str(path), header=True)
    typed = {
        spec.name: spark_type(spec)
        for spec in (inputs or ())
        if isinstance(spec, ColSpec) and spec.name and isinstance(spec.type, DataType)  # primitives only
    }
    return frame.select(*[col(c).cast(typed[c]).alias(c) if c in typed else col(c) for c in frame.columns])


def _apply(udf: ModelUDF, frame: DataFrame, partitions: list[str]) -> Any:
    if udf.inputs is not None and udf.inputs.has_names:
        return udf()
    return udf(*[c for c in frame.columns if c not in partitions])  # no input names: every data column


@contextmanager
def _reporting(spark: SparkSession, on_progress: Callable[[Progress], None] | None) -> Iterator[None]:
    context = spark.sparkContext
    context.setJobGroup(_JOB_GROUP, "pack predict", interruptOnCancel=True)
    if on_progress is None:
        yield
        return
    stop = threading.Event()

    def poll() -> None:
        tracker = context.statusTracker()
        while not stop.wait(0.5):
            done = total = 0
            for job in tracker.getJobIdsForGroup(_JOB_GROUP):
                info = tracker.getJobInfo(job)
                for stage in info.stageIds if info is not None else ():
                    found = tracker.getStageInfo(stage)
                    if found is not None:
                        done, total = done + found.numCompletedTasks, total + found.numTasks
            if total:
                on_progress(Progress(done, total))

    thread = threading.Thread(target=poll, name="pack-spark-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def _spark_errors() -> Iterator[None]:
    """Spark's exceptions as pack errors: the first line of Spark's message, or the pack error an
    executor raised, class and message."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import AnalysisException, PySparkException, PythonException

    try:
        yield
    except PythonException as exc:
        raise _executor_error(str(exc)) from None
    except AnalysisException as exc:
        raise InvalidInput(_first_line(str(exc))) from None
    except PySparkException as exc:
        raise PackError(_first_line(str(exc))) from None
    except Py4JJavaError as exc:  # a JVM error pyspark does not translate
        raise PackError(_first_line(str(exc.java_exception))) from None


def _executor_error(text: str) -> PackError:
    for line in reversed(text.splitlines()):
        name, sep, message = line.strip().partition(": ")
        if sep and name.startswith("pack.errors."):
            family = getattr(errors, name.rsplit(".", 1)[1], None)
            if isinstance(family, type) and issubclass(family, PackError):
                return _rebuilt(family, message)
    return ModelError(_first_line(text.split("Traceback", 1)[-1].strip().splitlines()[-1]))


def _rebuilt(family: type[PackError], message: str) -> PackError:
    for cls in family.__mro__:  # the nearest family that takes a plain message (not MissingDependency)
        if issubclass(cls, PackError):
            try:
                return cls(message)
            except TypeError:
                continue
    return PackError(message)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "Spark failed"


__all__ = [
    "INPUT_FORMATS",
    "BatchResult",
    "Progress",
    "check_paths",
    "detect_format",
    "local_session",
    "parquet_rows",
    "partition_columns",
    "score_dataset",
]
