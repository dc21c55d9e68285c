"""What runs in Spark's Python workers: fetch and check the model once per process, score batches.

A worker unpacks the archive Spark copied to its machine (once per machine), checks every file
against the manifest made on the driver, loads the model and keeps it for the worker's later tasks
(Spark reuses Python workers). The driver already loaded the same bytes, so a pickle-based format's
``UnsafeFormatWarning`` was shown, or refused, where the user is; workers do not repeat it in their
logs, but refuse it under the safe-only policy (the driver's, or ``PACK_SAFE_ONLY`` in the executor).
A few models stay loaded per worker (least recently used first out).

With ``accelerate``, the driver compiled the tree ensemble and shipped the result (a native library,
or an onnxruntime graph) in the archive: the worker runs it without importing scikit-learn, after
checking it answers the input example as scikit-learn did on the driver; otherwise it loads the model
as saved and logs why.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pyspark.sql.types import DataType

from pack.errors import PackError, UnsafeFormatWarning
from pack.flavors.lookup import flavor_for_model
from pack.flavors.mlmodel import MLModel
from pack.flavors.pyfunc import PyFuncModel, load_model
from pack.flavors.safety import check_model
from pack.spark.inputs import InputPlan, model_input, table_input
from pack.spark.results import to_spark
from pack.spark.shipping import Manifest, unpack, verify

if TYPE_CHECKING:
    from pack.flavors.accelerate import Compiled

MODELS_PER_WORKER = 4
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoringPlan:
    """What every worker needs to score: the model's archive and manifest, its load options,
    the checked params and the result type; ``compiled``: the trees compiled on the driver, whose
    file (``compiled.file_name``) is in the archive. Pickled into each task (keep it small)."""

    archive_name: str
    manifest: Manifest
    result_type: DataType
    model_config: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    safe_only: bool = False
    compiled: Compiled | None = None

    @property
    def cache_key(self) -> str:
        """One loaded model per content, load options and safety policy."""
        return f"{self.manifest.digest}:{self.safe_only}:{sorted(self.model_config.items())!r}"


class _LoadedModels:
    """The models this Python worker has loaded, by ``ScoringPlan.cache_key`` (bounded LRU)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._models: OrderedDict[str, PyFuncModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, plan: ScoringPlan) -> PyFuncModel:
        with self._lock:
            model = self._models.get(plan.cache_key)
            if model is None:
                model = _load(plan)
                self._models[plan.cache_key] = model
                while len(self._models) > self._capacity:
                    self._models.popitem(last=False)
            self._models.move_to_end(plan.cache_key)
            return model


def _load(plan: ScoringPlan) -> PyFuncModel:
    from pyspark import SparkFiles

    os.environ.update(plan.extra_env)
    archive = Path(SparkFiles.get(plan.archive_name))
    directory = unpack(archive, plan.manifest, Path(SparkFiles.getRootDirectory()) / "pack-models")
    verify(directory, plan.manifest)
    if plan.compiled is not None:
        metadata = MLModel.load(directory)
        check_model(flavor_for_model(metadata), directory, metadata, safe_only=plan.safe_only)
        try:
            return _adopt(plan.compiled, metadata, directory, plan.model_config)
        except PackError as exc:
            logger.warning("pack: the compiled trees are not used in this worker (%s); scoring as saved", exc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsafeFormatWarning)
        return load_model(directory, model_config=plan.model_config, safe_only=plan.safe_only)


def _adopt(shipped: Compiled, metadata: MLModel, directory: Path, config: Mapping[str, Any]) -> PyFuncModel:
    from pack.flavors.accelerate import adopt  # lazy: only for compiled models

    return adopt(shipped.located(directory), metadata, directory, config)


# One per Python worker process: the point is to load each model once per worker, not once per task.
_LOADED = _LoadedModels(MODELS_PER_WORKER)


def score(plan: ScoringPlan, inputs: InputPlan, batches: Iterator[Any]) -> Iterator[pd.Series | pd.DataFrame]:
    """Predict every batch of one task's partition (the body of the pandas UDF)."""
    model = _LOADED.get(plan)
    for batch in batches:
        args = batch if isinstance(batch, tuple) else (batch,)
        if len(args[0]) == 0:
            continue
        yield to_spark(model.predict(model_input(inputs, args), plan.params), plan.result_type)


def score_arrow(plan: ScoringPlan, inputs: InputPlan, batches: Iterator[Any]) -> Iterator[Any]:
    """Predict every batch of one task's partition (the body of the Arrow UDF: ``pyarrow.Array`` in
    and out, for plain columns and a scalar result type)."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_type

    model = _LOADED.get(plan)
    kind = to_arrow_type(plan.result_type)
    for batch in batches:
        arrays = batch if isinstance(batch, tuple) else (batch,)
        if len(arrays[0]) == 0:
            continue
        series = to_spark(model.predict(table_input(inputs, arrays), plan.params), plan.result_type)
        yield pa.Array.from_pandas(series, type=kind, safe=True)


__all__ = ["MODELS_PER_WORKER", "ScoringPlan", "score", "score_arrow"]
