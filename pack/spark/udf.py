"""``spark_udf``: any pack model as a Spark pandas UDF of the iterator-of-batches kind.

At creation, on the driver: the URI is resolved once (a registered version is pinned and its files
are checked against the registry's checksums while they are packed into the one archive that Spark
copies to the executors), the model is loaded once (so unsafe formats warn or are refused here, and
a model that cannot load fails here), params are checked against the signature and, when the model
has an input example, the result type is tried on its predictions. With ``accelerate``, a
scikit-learn tree ensemble is compiled here and the result joins the archive. Executors then load the
model once per Python worker and score Arrow batches.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import pandas as pd
import pyarrow as pa
from pyspark.sql import Column, SparkSession
from pyspark.sql.functions import col, struct
from pyspark.sql.pandas.functions import pandas_udf
from pyspark.sql.types import BooleanType, DataType, DecimalType, NumericType, StringType, StructType

from pack.errors import InvalidInput, SchemaError, SchemaWarning
from pack.flavors.enforce import enforce_params
from pack.flavors.pyfunc import PyFuncModel, load_model
from pack.flavors.safety import safe_only_policy
from pack.flavors.schema import ColSpec, Schema
from pack.spark.inputs import InputPlan, check_names
from pack.spark.locate import LocatedModel, locate
from pack.spark.results import result_type_for, to_spark
from pack.spark.shipping import ModelArchive
from pack.spark.worker import ScoringPlan, score, score_arrow

if TYPE_CHECKING:
    from pack.flavors.accelerate import Compiled

ENV_MANAGERS = (None, "local")
try:  # pyspark 4.1+
    from pyspark.sql.pandas.functions import arrow_udf
except ImportError:  # pragma: no cover - older pyspark: pandas UDFs only
    arrow_udf = None  # type: ignore[assignment]
logger = logging.getLogger(__name__)


class ModelUDF:
    """A model as a Spark column function (what ``spark_udf`` returns).

    ``udf()`` scores the model's input columns by name; ``udf("a", "b")`` or ``udf(col_a, col_b)``
    the given columns (by name when they carry the signature's names, else in its order);
    ``udf(struct(...))`` a struct's fields by name; a tensor model takes an array column.
    ``spark.udf.register(name, udf)`` makes it callable from SQL (columns in the signature's order,
    or one struct).
    """

    def __init__(
        self, plan: ScoringPlan, inputs: Schema | None, located: LocatedModel, acceleration: str | None = None
    ) -> None:
        self._plan = plan
        self._inputs = inputs
        self.model = located
        self.acceleration = acceleration
        default = self._pandas_udf(InputPlan(inputs, by_position=True))
        # What spark.udf.register reads from a UDF (MLflow's UDF carries the same attributes).
        self.func = default.func
        self.evalType = default.evalType
        self.deterministic = default.deterministic
        self.asNondeterministic = default.asNondeterministic

    @property
    def inputs(self) -> Schema | None:
        """The signature's inputs (None without a signature)."""
        return self._inputs

    @property
    def accelerated(self) -> bool:
        """The workers run the tree ensemble compiled on the driver (``accelerate=True`` succeeded)."""
        return self._plan.compiled is not None

    @property
    def returnType(self) -> DataType:
        """The Spark type of the UDF's column."""
        return self._plan.result_type

    def __call__(self, *columns: str | Column) -> Column:
        """The prediction column for ``columns`` (default: the signature's input columns).

        Raises:
            InvalidInput: no columns given and the signature names none, or names optional ones.
            SchemaError: the named columns do not cover the signature's required inputs.
        """
        if not columns:
            columns = tuple(self._default_columns())
        if len(columns) == 1 and isinstance(columns[0], Column):  # a struct (by name) or one plain column
            return self._pandas_udf(InputPlan(self._inputs, by_position=False))(columns[0])  # type: ignore[no-any-return]
        names = [c for c in columns if isinstance(c, str)]
        if len(names) < len(columns):  # Column objects: a struct names its fields after them
            argument = struct(*(col(c) if isinstance(c, str) else c for c in columns))
            return self._pandas_udf(InputPlan(self._inputs, by_position=True))(argument)  # type: ignore[no-any-return]
        positional = check_names(self._inputs, names)
        if positional is not None:
            pairs = ", ".join(f"{a} -> {b}" for a, b in zip(names, positional, strict=False))
            warnings.warn(
                f"columns do not carry the model's input names; mapped by position: {pairs}",
                SchemaWarning,
                stacklevel=2,
            )
        # Named columns travel as plain arguments (cheaper for Arrow than one struct) and are named again
        # in the workers; as Arrow arrays, without pandas, where the model reads them as one array.
        plan = InputPlan(self._inputs, by_position=True, names=tuple(names))
        udf = self._arrow_udf(plan) if self._arrow_ready(plan) else self._pandas_udf(plan)
        return udf(*(col(name) for name in names))  # type: ignore[no-any-return]

    def _default_columns(self) -> list[str]:
        schema = self._inputs
        if schema is None or not schema.has_names:
            raise InvalidInput("the model's signature names no input columns: call the UDF with the columns to score")
        optional = [s.name for s in schema if isinstance(s, ColSpec) and not s.required and s.name is not None]
        if optional:
            raise InvalidInput(f"the model has optional inputs {optional}: call the UDF with the columns to pass")
        return schema.names

    def _pandas_udf(self, inputs: InputPlan) -> Any:
        plan = self._plan

        def predict(batches: Iterator[Any]) -> Iterator[Any]:
            return score(plan, inputs, batches)

        result: Any = pd.DataFrame if isinstance(plan.result_type, StructType) else pd.Series
        predict.__annotations__ = {  # what pandas_udf reads to pick the iterator-of-batches kind
            "batches": Iterator[tuple[Union[pd.Series, pd.DataFrame], ...]],
            "return": Iterator[result],
        }
        return pandas_udf(predict, plan.result_type)  # type: ignore[call-overload]

    def _arrow_ready(self, inputs: InputPlan) -> bool:
        """An Arrow UDF (pyspark 4.1+) serves these inputs: the signature's uniform numeric columns,
        and a numeric, boolean or string result (a pandas UDF converts each batch to pandas and back,
        which costs Spark more than a compiled forest's predict; timestamps and decimals keep the
        pandas UDF's conversions)."""
        kind = self._plan.result_type
        return (
            arrow_udf is not None
            and inputs.table_columns is not None
            and isinstance(kind, (NumericType, BooleanType, StringType))
            and not isinstance(kind, DecimalType)
        )

    def _arrow_udf(self, inputs: InputPlan) -> Any:
        plan = self._plan

        def predict(batches: Iterator[Any]) -> Iterator[Any]:
            return score_arrow(plan, inputs, batches)

        predict.__annotations__ = {  # what arrow_udf reads to pick the iterator-of-batches kind
            "batches": Iterator[tuple[pa.Array, ...]],
            "return": Iterator[pa.Array],
        }
        return arrow_udf(predict, plan.result_type)  # type: ignore[call-overload]

    def __repr__(self) -> str:
        return f"ModelUDF({self.model.uri!r} -> {self._plan.result_type.simpleString()})"


def spark_udf(
    spark: SparkSession,
    model_uri: str | os.PathLike[str],
    result_type: str | DataType | None = None,
    *,
    env_manager: str | None = None,
    params: Mapping[str, Any] | None = None,
    extra_env: Mapping[str, str] | None = None,
    model_config: Mapping[str, Any] | None = None,
    accelerate: bool = False,
    safe_only: bool | None = None,
) -> ModelUDF:
    """A Spark pandas UDF that scores ``model_uri`` (MLflow's ``mlflow.pyfunc.spark_udf``).

    Args:
        spark: a classic ``SparkSession`` (executors need pack and the model's requirements).
        model_uri: a path, ``file://``, ``models:/name/version|stage|latest``, ``models:/name@alias``
            or ``runs:/run_id/path``; registry URIs are pinned to one version now.
        result_type: a DDL string (``"double"``, ``"array<float>"``, ``"label bigint, p double"``) or
            a pyspark ``DataType``; default: from the signature's outputs, else ``double``.
        env_manager: ``"local"`` (the default and only choice): executors use their own Python.
        params: inference params, checked against the signature now and passed to every predict.
        extra_env: environment variables set in each Python worker before it loads the model.
        model_config: load options, as for ``pack.pyfunc.load_model``.
        accelerate: compile a scikit-learn tree ensemble here, to native code (a C compiler is needed
            here, not in the executors) or else onnxruntime's tree kernel, verified on the input
            example, and ship it;
            workers run it without scikit-learn. A model that cannot be compiled is scored as saved;
            ``udf.acceleration`` says why (and it is logged).
        safe_only: refuse executable content (pickles, custom Python models, model code) here and in
            every executor; None or False: ``PACK_SAFE_ONLY`` decides (here, and in each executor).

    Raises:
        NotFound: nothing at the URI.
        InvalidInput: a bad URI, result type or env manager, or a Spark Connect session.
        InvalidModel: the model is malformed, or a registered version's files were tampered with.
        UnsafeModel: the safe-only policy is on and the model holds executable content.
        SchemaError: params, or the input example's predictions, do not fit.
    """
    if env_manager not in ENV_MANAGERS:
        raise InvalidInput(
            f"env_manager={env_manager!r} is not supported: pack's UDF runs in the executors' own Python "
            "(env_manager='local'); install the model's requirements there"
        )
    context = _spark_context(spark)
    policy = safe_only_policy(bool(safe_only))
    located = locate(os.fspath(model_uri))
    # The workers' load options; the driver loads with the same (and no settings lookup).
    config = {"workers": _tasks_per_executor(context), **(model_config or {})}
    with ModelArchive(located.path, located.manifest, _ARCHIVES.directory()) as archive:  # checked first
        model = load_model(located.path, model_config=config, safe_only=policy)
        signature = model.signature
        kind = result_type_for(result_type, signature)
        checked = enforce_params(signature.params if signature is not None else None, params)
        _try_on_example(model, kind, checked)
        shipped, acceleration = _compile(model, config, archive) if accelerate else (None, None)
    context.addFile(str(archive.path))
    plan = ScoringPlan(
        archive_name=archive.path.name,
        manifest=archive.manifest,
        result_type=kind,
        model_config=config,
        params=checked,
        extra_env=dict(extra_env or {}),
        safe_only=policy,
        compiled=shipped,
    )
    return ModelUDF(plan, signature.inputs if signature is not None else None, located, acceleration)


def _compile(model: PyFuncModel, config: Mapping[str, Any], archive: ModelArchive) -> tuple[Compiled | None, str]:
    """Compile the tree ensemble once, here (native code first: the fastest on large batches); the
    compiled file joins the archive. Returns what the workers need besides that file (None: not
    compiled) and what happened."""
    from pack.flavors.accelerate import BATCH_RUNTIMES, accelerate  # lazy: the compilers only when asked

    outcome = accelerate(model, config, runtimes=BATCH_RUNTIMES)
    if outcome.artifact is None:
        logger.warning("accelerate: %s is scored as saved: %s", model.path, outcome.detail)
        return None, f"not compiled: {outcome.detail}"
    archive.add(outcome.artifact.file_name, outcome.artifact.payload())
    logger.info("accelerate: %s", outcome.detail)
    return outcome.artifact.shipped(), f"compiled: {outcome.detail}"


def _spark_context(spark: SparkSession) -> Any:
    try:
        return spark.sparkContext
    except Exception:  # Spark Connect sessions have no SparkContext
        raise InvalidInput(
            "pack's spark_udf needs a classic SparkSession; Spark Connect is not supported yet"
        ) from None


def _try_on_example(model: PyFuncModel, kind: DataType, params: Mapping[str, Any] | None) -> None:
    example = model.input_example()
    if example is None:
        return
    try:
        to_spark(model.predict(example[0], params), kind)
    except SchemaError as exc:
        raise SchemaError(
            f"result_type {kind.simpleString()} does not fit the model's predictions on its input example: {exc}"
        ) from None


def _tasks_per_executor(context: Any) -> int:
    """How many tasks (Python workers) run at once on one executor: they share its CPUs."""
    conf = context.getConf()
    master = conf.get("spark.master", "")
    task_cpus = int(conf.get("spark.task.cpus", "1"))
    local = master.startswith("local")
    cores = context.defaultParallelism if local else int(conf.get("spark.executor.cores", "1"))
    return max(1, cores // max(1, task_cpus))


class _Archives:
    """One directory per driver process for the model archives handed to Spark.

    Spark refuses a file name registered before with another path, so an archive (named by its
    content) keeps one path for the life of the process; the directory goes when the process ends.
    """

    def __init__(self) -> None:
        self._path: Path | None = None
        self._lock = threading.Lock()

    def directory(self) -> Path:
        with self._lock:
            if self._path is None:
                self._path = Path(tempfile.mkdtemp(prefix="pack-spark-"))
                atexit.register(shutil.rmtree, self._path, True)
            return self._path


_ARCHIVES = _Archives()


__all__ = ["ModelUDF", "spark_udf"]
