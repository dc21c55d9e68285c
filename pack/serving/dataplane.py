"""The server's core, free of any web framework: models, readiness, predict, metadata.

Models load in the background after the server starts listening: liveness answers at once,
readiness only once every model is loaded and warmed up with its input example. A registered
version's files are verified against the registry's checksums in every process that loads them
(a mismatch fails the load: the worker never serves). Each request's input is checked against the
signature on its own (``PyFuncModel.prepare``), so a bad request fails alone and never joins a batch;
then it joins the model's ``BatchingPredictor`` queue, unless that queue is full (503).

A predict that runs past ``timeout + ready_grace`` turns readiness to 503 (and new requests for that
model get 503 at once instead of queueing behind it); past ``liveness_timeout`` liveness fails too,
so an orchestrator restarts the replica.
"""

from __future__ import annotations

import asyncio
import enum
import gc
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from pack.checksums import Verifier
from pack.errors import InvalidInput, ModelError, NotFound
from pack.flavors.mlmodel import MLModel
from pack.flavors.pyfunc import PyFuncModel, load_model
from pack.flavors.schema import ModelSignature, Schema
from pack.serving.batching import BatchingPredictor
from pack.serving.errors import DeadlineExceeded, NotReady, Overloaded
from pack.serving.logs import log_failure
from pack.serving.metrics import ServingMetrics
from pack.serving.rows import row_count, supports_batching
from pack.serving.settings import ModelSpec, ServingSettings
from pack.types import Params

logger = logging.getLogger("pack.serving")

# Bodies up to this size are decoded on the event loop; larger ones in a thread, so a big request
# does not hold up health probes and small requests.
INLINE_DECODE_BYTES = 64 * 1024

Decoder = Callable[[], tuple[Any, "Params | None"]]


class ModelState(str, enum.Enum):
    """Where a served model is in its life."""

    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class PreparedPredictor:
    """``Predictor`` over a ``PyFuncModel`` for data that ``prepare`` already checked."""

    def __init__(self, model: PyFuncModel) -> None:
        self._model = model

    def predict(self, data: Any, params: Params | None = None) -> Any:
        return self._model.predict_prepared(data, params)


class _Observer:
    """Feeds one model's batcher events into the metrics."""

    def __init__(self, metrics: ServingMetrics, name: str, version: str) -> None:
        self._size = metrics.batch_size.labels(name, version)
        self._rows = metrics.batch_rows.labels(name, version)
        self._predict = metrics.predict_latency.labels(name, version)
        self._depth = metrics.queue_depth.labels(name, version)
        self._reruns = metrics.reruns.labels(name, version)

    def batch(self, requests: int, rows: int, seconds: float) -> None:
        self._size.observe(requests)
        self._rows.observe(rows)
        self._predict.observe(seconds)

    def queue(self, depth: int) -> None:
        self._depth.set(depth)

    def rerun(self, requests: int) -> None:
        self._reruns.inc(requests)


class ServedModel:
    """One model being served: its spec, MLmodel, state and (once loaded) predictor."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.mlmodel: MLModel = spec.mlmodel if spec.mlmodel is not None else MLModel.load(spec.path)
        self.state = ModelState.LOADING
        self.error: str | None = None
        self.model: PyFuncModel | None = None
        self.batcher: BatchingPredictor | None = None
        self.load_seconds: float | None = None
        self.settled = asyncio.Event()  # set once loading has ended, either way
        signature = self.mlmodel.signature
        # What every V2 request of this model reads from its signature, worked out once.
        self.v2_inputs: Schema | None = signature.inputs if signature is not None else None
        self.v2_outputs: Schema | None = signature.outputs if signature is not None else None
        params = signature.params if signature is not None else None
        self.v2_param_names = frozenset(p.name for p in params) if params is not None else frozenset()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def signature(self) -> ModelSignature | None:
        return self.mlmodel.signature

    @property
    def input_schema(self) -> Schema | None:
        signature = self.mlmodel.signature
        return signature.inputs if signature is not None else None

    @property
    def ready(self) -> bool:
        return self.state is ModelState.READY

    def running_for(self) -> float:
        """Seconds its current predict call has been running (0 when idle)."""
        return self.batcher.running_for() if self.batcher is not None else 0.0

    def require_ready(self) -> tuple[PyFuncModel, BatchingPredictor]:
        """The loaded model and its batcher.

        Raises:
            NotReady: the model is still loading or failed to load.
        """
        if self.model is None or self.batcher is None or self.state is not ModelState.READY:
            detail = f": {self.error}" if self.error else ""
            raise NotReady(f"model {self.name!r} version {self.version} is {self.state.value}{detail}")
        return self.model, self.batcher


def _version_key(version: str) -> tuple[int, int, str]:
    return (1, int(version), "") if version.isdigit() else (0, 0, version)


class DataPlane:
    """Serves a fixed set of models: loading, readiness, lookup and predict."""

    def __init__(
        self,
        specs: Sequence[ModelSpec],
        settings: ServingSettings,
        metrics: ServingMetrics,
        on_load_failure: Callable[[], None] | None = None,
        on_loaded: Callable[[], None] | None = None,
    ) -> None:
        if not specs:
            raise InvalidInput("no models to serve")
        self.settings = settings
        self.metrics = metrics
        self.on_load_failure = on_load_failure
        self.on_loaded = on_loaded
        self.verifier = Verifier("cached")
        self._models: dict[tuple[str, str], ServedModel] = {}
        for spec in specs:
            key = (spec.name, spec.version)
            if key in self._models:
                raise InvalidInput(f"model {spec.name!r} version {spec.version} is given twice")
            self._models[key] = ServedModel(spec)
        self._latest: dict[str, ServedModel] = {}
        for served in sorted(self._models.values(), key=lambda m: _version_key(m.version)):
            self._latest[served.name] = served
        self._loader: asyncio.Task[None] | None = None

    # -- lookup ---------------------------------------------------------------------------------

    @property
    def models(self) -> list[ServedModel]:
        """Every served model, in the order given."""
        return list(self._models.values())

    def versions(self, name: str) -> list[str]:
        """The served versions of a model name, oldest first."""
        found = [m.version for m in self._models.values() if m.name == name]
        return sorted(found, key=_version_key)

    def get(self, name: str, version: str | None = None) -> ServedModel:
        """A served model by name (and version; the highest version when None).

        Raises:
            NotFound: no such model or version is served.
        """
        served = self._latest.get(name) if version is None else self._models.get((name, version))
        if served is None:
            if name in self._latest:
                versions = ", ".join(self.versions(name))
                raise NotFound(f"model {name!r} has no version {version!r} here (served: {versions})")
            known = ", ".join(sorted(self._latest))
            raise NotFound(f"model {name!r} is not served here (served: {known})")
        return served

    def only(self) -> ServedModel:
        """The model behind ``/invocations`` when exactly one model name is served.

        Raises:
            InvalidInput: several model names are served, so the request must name one.
        """
        if len(self._latest) == 1:
            return next(iter(self._latest.values()))
        names = ", ".join(sorted(self._latest))
        raise InvalidInput(f"{len(self._latest)} models are served here; POST to /invocations/<name> (one of: {names})")

    # -- health ---------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once every model is loaded and warmed up, and none has a predict running overdue."""
        overdue = self.settings.timeout + self.settings.ready_grace
        return all(m.ready and m.running_for() <= overdue for m in self._models.values())

    @property
    def live(self) -> bool:
        """False once a predict has run longer than ``liveness_timeout`` (the replica needs a restart)."""
        limit = self.settings.liveness_timeout
        return all(m.running_for() <= limit for m in self._models.values())

    def stalled(self) -> list[tuple[ServedModel, float]]:
        """Models whose current predict is past ``timeout + ready_grace``, with its running time."""
        overdue = self.settings.timeout + self.settings.ready_grace
        running = ((m, m.running_for()) for m in self._models.values())
        return [(m, seconds) for m, seconds in running if seconds > overdue]

    @property
    def failed(self) -> ServedModel | None:
        """The first model that failed to load, if any."""
        return next((m for m in self._models.values() if m.state is ModelState.FAILED), None)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin loading every model in the background (call from the running event loop)."""
        if self._loader is None:
            self._loader = asyncio.get_running_loop().create_task(self._load_all())

    async def wait_loaded(self) -> None:
        """Wait until every model has loaded or failed."""
        if self._loader is not None:
            await asyncio.shield(self._loader)

    async def close(self) -> None:
        """Stop loading and release the predict threads."""
        if self._loader is not None and not self._loader.done():
            self._loader.cancel()
        for served in self._models.values():
            if served.batcher is not None:
                served.batcher.close()

    async def _load_all(self) -> None:
        try:
            await self._load_each()
        finally:
            for served in self._models.values():
                served.settled.set()
        if self.ready:
            # Everything loaded so far lives as long as the process: keep it out of the
            # collector's way, so full collections stay short while serving (tail latency). No
            # collection first: it holds the event loop (~0.1 s with scikit-learn) while the first
            # requests wait, for the few thousand objects of garbage loading leaves (frozen too).
            gc.freeze()
            if self.on_loaded is not None:
                self.on_loaded()

    async def _load_each(self) -> None:
        for served in self._models.values():
            labels = (served.name, served.version)
            started = time.perf_counter()
            try:
                model, batcher = await asyncio.to_thread(self._load, served)
            except Exception as exc:
                served.state, served.error = ModelState.FAILED, type(exc).__name__
                logger.error("model %s version %s failed to load: %s", *labels, _one_line(exc), exc_info=exc)
                if self.on_load_failure is not None:
                    self.on_load_failure()
                return
            served.model, served.batcher = model, batcher
            served.load_seconds = time.perf_counter() - started
            served.state = ModelState.READY
            served.settled.set()
            self.metrics.load_seconds.labels(*labels).set(served.load_seconds)
            self.metrics.ready.labels(*labels).set(1)
            logger.info(
                "model %s version %s ready in %.2f s (batching %s)",
                *labels,
                served.load_seconds,
                "on" if batcher.batchable else "off",
            )

    def _load(self, served: ServedModel) -> tuple[PyFuncModel, BatchingPredictor]:
        """Load, warm up with the input example, and decide whether batching is safe (in a thread)."""
        settings = self.settings
        spec = served.spec
        if spec.files is not None:
            self.verifier.verify(spec.path, spec.files, f"models:/{spec.name}/{spec.version}")
        model = load_model(
            spec.path, model_config=settings.load_config, mlmodel=served.mlmodel, safe_only=settings.safe_only
        )
        if settings.accelerate:
            from pack.flavors.accelerate import accelerate  # lazy: converter and onnxruntime only when asked

            outcome = accelerate(model, settings.load_config)
            model = outcome.model
            state = "compiled" if outcome.compiled else "not compiled, served as saved"
            logger.info(
                "model %s version %s: --accelerate: %s (%s)", served.name, served.version, state, outcome.detail
            )
        predictor = PreparedPredictor(model)
        batchable = settings.max_batch_size > 1
        example = model.input_example()
        if example is not None:
            prepared, params = model.prepare(*example)
            try:
                single = predictor.predict(prepared, params)
            except ModelError as exc:
                raise ModelError(f"the model fails on its own input example: {exc}") from exc
            if batchable:
                try:
                    batchable = supports_batching(predictor, prepared, params, single)
                except Exception:
                    logger.debug("batching check failed for %s", served.name, exc_info=True)
                    batchable = False
        batcher = BatchingPredictor(
            predictor,
            max_batch_size=settings.max_batch_size,
            max_delay=settings.max_batch_delay,
            batchable=batchable,
            observer=_Observer(self.metrics, served.name, served.version),
            name=served.name,
        )
        return model, batcher

    # -- predict --------------------------------------------------------------------------------

    async def predict(self, served: ServedModel, decode: Decoder, size: int) -> Any:
        """Decode a request body, check it against the signature, and predict through the batcher.

        A request that arrives while the model is still loading waits for it (within the timeout)
        instead of failing: readiness probes report the truth, and a worker that is still warming
        up behind a shared port (``-w N``) or a scaled-from-zero replica does not fail its first
        requests.

        Args:
            served: the model to ask.
            decode: turns the request body into ``(data, params)``.
            size: the body's size in bytes (large bodies are decoded off the event loop).

        Raises:
            NotReady: the model is not loaded yet, or its current predict is overdue.
            Overloaded: the model's queue is full.
            InvalidInput: the body cannot be decoded, or holds no rows.
            SchemaError: the input violates the signature.
            ModelError: the model raised (logged with its traceback under the request id).
            DeadlineExceeded: the request took longer than the timeout.
        """
        settings = self.settings
        timeout = settings.timeout
        loop = asyncio.get_running_loop()
        started = loop.time()
        if not served.settled.is_set():
            try:
                await asyncio.wait_for(served.settled.wait(), timeout)
            except asyncio.TimeoutError:
                raise DeadlineExceeded(f"model {served.name!r} did not finish loading within {timeout:g} s") from None
        model, batcher = served.require_ready()
        running = batcher.running_for()
        if running > timeout + settings.ready_grace:
            self.metrics.rejected.labels(served.name, served.version, "stalled").inc()
            raise NotReady(f"model {served.name!r} has been predicting for {running:.0f} s; this replica is stalled")
        try:
            if size > INLINE_DECODE_BYTES:
                prepared = await asyncio.wait_for(
                    asyncio.to_thread(_prepare, model, decode), max(timeout - (loop.time() - started), 0.0)
                )
            else:
                prepared = _prepare(model, decode)
        except asyncio.TimeoutError:
            raise DeadlineExceeded(f"Request processing time exceeded the limit of {timeout:g} s") from None
        rows = row_count(prepared[0])
        if rows == 0:
            raise InvalidInput("the request holds no rows")
        queued = batcher.queued_rows
        if queued and queued + (rows or 1) > settings.max_queue_rows:
            self.metrics.rejected.labels(served.name, served.version, "queue").inc()
            raise Overloaded(f"model {served.name!r} has {queued} rows waiting (--max-queue-rows); retry")
        future = batcher.submit(*prepared, rows=rows)
        # One timer, not wait_for's wrapper: the batcher skips a request whose future is already done.
        deadline = loop.call_at(started + timeout, _expire, future, timeout)
        try:
            return await future
        except ModelError as exc:
            log_failure("model %s version %s failed: %s", exc, served.name, served.version, exc)
            raise
        finally:
            deadline.cancel()


def _expire(future: asyncio.Future[Any], timeout: float) -> None:
    if not future.done():
        future.set_exception(DeadlineExceeded(f"Request processing time exceeded the limit of {timeout:g} s"))


def _prepare(model: PyFuncModel, decode: Decoder) -> tuple[Any, Params | None]:
    data, params = decode()
    return model.prepare(data, params)


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


__all__ = [
    "INLINE_DECODE_BYTES",
    "DataPlane",
    "Decoder",
    "ModelState",
    "PreparedPredictor",
    "ServedModel",
]
