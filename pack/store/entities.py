"""What the tracking and registry stores hold: frozen dataclasses with MLflow's field names.

Each maps 1:1 onto the MLflow REST entity of the same name (``Experiment``, ``Run`` = ``info`` +
``data`` + ``inputs`` + ``outputs``, ``Metric``, ``Param``, ``RunTag``, ``RegisteredModel``,
``ModelVersion``...): tag lists are mappings here, ``ModelVersion.version`` is an int (a string on the
wire). Timestamps are milliseconds since the epoch (as MLflow). Entities carry no behaviour beyond
small conveniences; lifecycle rules live in ``pack.registry.service``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pack.checksums import FileChecksum
from pack.errors import InvalidInput
from pack.refs import Stage

T = TypeVar("T")


def now_ms() -> int:
    """Milliseconds since the epoch (the unit of every timestamp here)."""
    return time.time_ns() // 1_000_000


class ModelVersionStatus(str, enum.Enum):
    """A version is READY only once all its files are stored and checksummed."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"

    def __str__(self) -> str:
        return self.value


class RunStatus(str, enum.Enum):
    """MLflow's run statuses."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @classmethod
    def parse(cls, value: str | RunStatus) -> RunStatus:
        """The status named ``value``.

        Raises:
            InvalidInput: no such status.
        """
        try:
            return cls(str(value).upper())
        except ValueError:
            raise InvalidInput(f"unknown run status {value!r} (statuses: {', '.join(s.value for s in cls)})") from None

    def __str__(self) -> str:
        return self.value


class LifecycleStage(str, enum.Enum):
    """Experiments and runs are soft-deleted (``deleted``) and can be restored."""

    ACTIVE = "active"
    DELETED = "deleted"

    def __str__(self) -> str:
        return self.value


class ViewType(enum.IntEnum):
    """Which experiments or runs a search returns (MLflow's ``ViewType``)."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3


@dataclass(frozen=True)
class Experiment:
    """A named group of runs."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE.value
    tags: Mapping[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass(frozen=True)
class Metric:
    """One logged metric value.

    MLflow 3 fields: ``model_id`` (the logged model the value is also recorded for), ``dataset_name``
    and ``dataset_digest`` (what it was measured on); ``run_id`` is set where values of several runs are
    returned together (``get_metric_history_bulk_interval``) and on a logged model's metrics.
    """

    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class Param:
    """A run parameter (immutable once logged)."""

    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    """A run tag (mutable)."""

    key: str
    value: str


@dataclass(frozen=True)
class RunInfo:
    """A run's metadata (MLflow's ``RunInfo``)."""

    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str = LifecycleStage.ACTIVE.value

    @property
    def run_uuid(self) -> str:
        """MLflow's older name for ``run_id``."""
        return self.run_id


@dataclass(frozen=True)
class RunData:
    """A run's params, tags and latest metric values (MLflow's ``RunData``)."""

    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    """A dataset a run used (MLflow's ``Dataset``: identity, not the data)."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class DatasetInput:
    """A dataset a run read, with tags such as ``mlflow.data.context: training``."""

    dataset: Dataset
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetSummary:
    """A dataset some run of an experiment used, and in which context (``training``, ``eval``...)."""

    experiment_id: str
    name: str
    digest: str
    context: str | None = None


class LoggedModelStatus(str, enum.Enum):
    """MLflow 3's logged-model statuses: PENDING while files upload, READY once finalized."""

    PENDING = "LOGGED_MODEL_PENDING"
    READY = "LOGGED_MODEL_READY"
    UPLOAD_FAILED = "LOGGED_MODEL_UPLOAD_FAILED"

    @classmethod
    def parse(cls, value: str | LoggedModelStatus) -> LoggedModelStatus:
        """The status named ``value`` (``READY`` or ``LOGGED_MODEL_READY``).

        Raises:
            InvalidInput: no such status.
        """
        text = str(value).upper()
        for status in cls:
            if text in (status.value, status.name):
                return status
        raise InvalidInput(f"unknown logged model status {value!r} (statuses: {', '.join(s.value for s in cls)})")

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class LoggedModel:
    """An MLflow 3 logged model (``m-<hex>``): files under ``artifact_location``, tags, params, metrics."""

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    status: str
    creation_timestamp: int
    last_updated_timestamp: int
    source_run_id: str | None = None
    model_type: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()


@dataclass(frozen=True)
class LoggedModelInput:
    """A logged model (MLflow 3, by id) a run read."""

    model_id: str


@dataclass(frozen=True)
class LoggedModelOutput:
    """A logged model (MLflow 3, by id) a run produced, and the step it was logged at."""

    model_id: str
    step: int = 0


@dataclass(frozen=True)
class RunInputs:
    """What a run read: datasets and logged models."""

    dataset_inputs: tuple[DatasetInput, ...] = ()
    model_inputs: tuple[LoggedModelInput, ...] = ()


@dataclass(frozen=True)
class RunOutputs:
    """What a run produced: logged models."""

    model_outputs: tuple[LoggedModelOutput, ...] = ()


@dataclass(frozen=True)
class Run:
    """A run: ``info``, ``data``, ``inputs`` and ``outputs`` (MLflow's ``Run``)."""

    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)


@dataclass(frozen=True)
class FileInfo:
    """One artifact file or directory (MLflow's ``FileInfo``)."""

    path: str
    is_dir: bool
    file_size: int | None


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model.

    ``source`` is where it was registered from; ``storage_location`` is where the registry keeps its
    own copy of the files (whose sha256 are recorded; see ``ModelVersionFile``).
    """

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    current_stage: str = Stage.NONE.value
    description: str | None = None
    user_id: str | None = None
    source: str | None = None
    run_id: str | None = None
    run_link: str | None = None
    status: str = ModelVersionStatus.READY.value
    status_message: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    storage_location: str | None = None
    size_bytes: int | None = None
    file_count: int | None = None
    flavors: tuple[str, ...] = ()
    signature: str | None = None
    model_id: str | None = None


@dataclass(frozen=True)
class RegisteredModel:
    """A named model with versions; ``aliases`` maps alias -> version."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, int] = field(default_factory=dict)
    latest_versions: tuple[ModelVersion, ...] = ()


ModelVersionFile = FileChecksum
"""One file of a registered version, as recorded at registration (path, sha256, size)."""


@dataclass(frozen=True)
class PromotionEvent:
    """One recorded change of a version's stage or of an alias.

    For ``kind == "stage"``: ``version`` moved from stage ``from_value`` to ``to_value``.
    For ``kind == "alias"``: alias ``alias`` moved from version ``from_value`` to ``to_value``
    (``None`` on either side when the alias was created or deleted); ``version`` is the version the
    alias points to afterwards, or pointed to before a delete.
    """

    id: int
    name: str
    version: int
    kind: str
    alias: str | None
    from_value: str | None
    to_value: str | None
    user: str
    timestamp: int
    reason: str | None = None


class PagedList(list[T], Generic[T]):
    """A page of results; ``token`` fetches the next page (``None`` on the last page)."""

    def __init__(self, items: Iterable[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token


__all__ = [
    "Dataset",
    "DatasetInput",
    "DatasetSummary",
    "Experiment",
    "FileInfo",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelOutput",
    "LoggedModelStatus",
    "Metric",
    "ModelVersion",
    "ModelVersionFile",
    "ModelVersionStatus",
    "PagedList",
    "Param",
    "PromotionEvent",
    "RegisteredModel",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "Stage",
    "ViewType",
    "now_ms",
]
