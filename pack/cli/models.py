"""``pack log-model`` and ``pack predict``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pack.cli.load_options import load_options, trusted_types_option
from pack.cli.mlflow_compat import LOCAL_ONLY, env_manager_options
from pack.cli.params import EXISTING_FILE, EXISTING_PATH
from pack.cli.spark_predict import run_on_spark, spark_options
from pack.cli.store_options import open_services, store_options
from pack.errors import FlavorError, InvalidInput, NotFound

CONTENT_TYPES = ("json", "csv", "parquet", "npy", "npz")
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".npy": "npy", ".npz": "npz"}


def read_data_file(path: Path, content_type: str | None, schema: Any = None) -> tuple[Any, dict[str, Any] | None]:
    """Read ``(data, params)`` from a JSON, CSV, Parquet, ``.npy`` or ``.npz`` file (by ``content_type`` or suffix).

    JSON may be any ``/invocations`` body, or plainly records, a split-orient object or a list; an
    ``.npz`` archive with several arrays gives a dict of named arrays.

    Raises:
        NotFound: the file does not exist.
        InvalidInput: it cannot be read as that format.
    """
    from pack.flavors import payloads

    kind = content_type or _SUFFIXES.get(path.suffix.lower(), "json")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"{path} does not exist") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    if kind == "csv":
        return payloads.parse_csv(raw, schema), None
    if kind == "parquet":
        return payloads.parse_parquet(raw, schema), None
    if kind in ("npy", "npz"):
        return _read_numpy(path, raw), None
    import orjson

    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            f"{path.name} is not valid JSON ({exc}); data files may be JSON, CSV, Parquet, .npy or .npz"
        ) from None
    if isinstance(document, dict) and any(key in document for key in payloads.FORMATS):
        return payloads.parse_json_request(document, schema)
    if isinstance(document, dict) and "data" in document:
        return payloads.parse_split(document, schema), None
    if isinstance(document, list) and document and all(isinstance(row, dict) for row in document):
        return payloads.parse_records(document, schema), None
    return payloads.parse_inputs(document, schema), None


def _read_numpy(path: Path, raw: bytes) -> Any:
    """An array from ``.npy``, or from ``.npz`` the one array (several: a dict by name); never unpickles."""
    import io

    import numpy as np

    try:
        loaded = np.load(io.BytesIO(raw), allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            return loaded
        with loaded:
            arrays = {name: loaded[name] for name in loaded.files}
    except (ValueError, OSError, EOFError) as exc:
        raise InvalidInput(f"{path.name} is not a numpy file without pickled objects ({exc})") from None
    if not arrays:
        raise InvalidInput(f"{path.name} holds no arrays")
    return next(iter(arrays.values())) if len(arrays) == 1 else arrays


@click.command("log-model")
@click.argument("flavor")
@click.argument("path", type=EXISTING_PATH)
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(path_type=Path),
    help="Write the model directory here (no run).",
)
@click.option(
    "--input-example",
    type=EXISTING_FILE,
    help="Example input (JSON, CSV, Parquet, .npy or .npz): saved with the model, used to infer its signature.",
)
@click.option("--name", default="model", show_default=True, help="The model's name inside the new run.")
@click.option("--register", "register_name", default=None, help="Also register it as a new version of this model.")
@click.option("--experiment", "-e", default=None, help="Experiment of the new run (created if missing).")
@store_options
def log_model(
    *,
    flavor: str,
    path: Path,
    output: Path | None,
    input_example: Path | None,
    name: str,
    register_name: str | None,
    experiment: str | None,
    **store: str | None,
) -> None:
    """Package a serialized native model from PATH (FLAVOR: sklearn, pytorch, keras, tensorflow, onnx).

    Without --output it is logged into a new run (as --name) and, with --register NAME, registered.
    """
    from pack.flavors.lookup import get_flavor

    try:
        chosen = get_flavor(flavor)
    except NotFound as exc:
        raise InvalidInput(str(exc)) from None
    example = read_data_file(input_example, None)[0] if input_example is not None else None
    if output is not None:
        mlmodel = _package(chosen, path, output, example)
        click.echo(f"saved {chosen.name} model to {output}{_describe_signature(mlmodel)}")
        if register_name is not None:
            _register(str(output.absolute()), register_name, store)
        else:
            click.echo(f"next: pack serve {output}  |  pack models register {output} NAME")
        return
    import tempfile

    from pack.tracking.client import Client
    from pack.tracking.models import log_model_dir

    with tempfile.TemporaryDirectory(prefix="pack-log-model-") as tmp:
        mlmodel = _package(chosen, path, Path(tmp) / "model", example)  # bad input fails before the store opens
        client = Client(services=open_services(**store))
        run = client.create_run(_experiment(client, experiment), run_name=None)
        try:
            model_uri = log_model_dir(client, run.info.run_id, Path(tmp) / "model", name)
        except BaseException:
            client.set_terminated(run.info.run_id, "FAILED")
            raise
        client.set_terminated(run.info.run_id)
    click.echo(f"logged {chosen.name} model to run {run.info.run_id} as {model_uri}{_describe_signature(mlmodel)}")
    if register_name is not None:
        _register(model_uri, register_name, store)
    else:
        click.echo(f"next: pack models register {model_uri} NAME")


def _package(chosen: Any, path: Path, output: Path, example: Any) -> Any:
    from pack.flavors.mlmodel import MLMODEL_FILE

    if path.is_dir() and (path / MLMODEL_FILE).is_file():
        return _copy_saved_model(path, output, chosen.name)
    directory = path.is_dir() and getattr(chosen, "reads_directories", False)
    native = chosen.read_native(path if directory else _native_file(path))
    from pack.flavors.packaging import save_model

    return save_model(native, output, flavor=chosen.name, input_example=example)


def _experiment(client: Any, experiment: str | None) -> str:
    if experiment is None:
        return "0"
    found = client.get_experiment_by_name(experiment)
    return str(found.experiment_id) if found is not None else str(client.create_experiment(experiment))


def _register(model_uri: str, name: str, store: dict[str, str | None]) -> None:
    version = open_services(**store).registry.register_model(model_uri, name)
    click.echo(f"registered as {name} version {version.version} (models:/{name}/{version.version})")


def _native_file(path: Path) -> Path:
    if path.is_file():
        return path
    candidates = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if len(candidates) != 1:
        names = ", ".join(p.name for p in candidates) or "none"
        raise FlavorError(f"{path} must hold exactly one model file or an MLmodel (found: {names})")
    return candidates[0]


def _copy_saved_model(source: Path, output: Path, flavor: str) -> Any:
    import shutil

    from pack._fs import atomic_dir
    from pack.flavors.pyfunc import load_model

    model = load_model(source)  # refuses malformed or hostile model directories
    if flavor not in model.metadata.flavors:
        raise FlavorError(f"{source} is not a {flavor} model (flavors: {', '.join(model.metadata.flavors)})")
    with atomic_dir(output) as tmp:
        shutil.copytree(source, tmp, dirs_exist_ok=True, symlinks=False)
    return model.metadata


def _describe_signature(mlmodel: Any) -> str:
    signature = mlmodel.signature
    if signature is None or signature.inputs is None:
        return " (no signature: add one with --input-example FILE, so requests are checked against it)"
    outputs = len(signature.outputs) if signature.outputs is not None else 0
    return f" (signature: {len(signature.inputs)} inputs -> {outputs} outputs)"


@click.command("predict")
@click.option("--model-uri", "-m", required=True, help="Model path or URI (models:/..., runs:/..., file://...).")
@click.option(
    "--input-path",
    "-i",
    required=True,
    type=EXISTING_PATH,
    help="Input file (JSON, CSV, Parquet, .npy or .npz); with --engine spark also a directory of files.",
)
@click.option("--output-path", "-o", type=click.Path(path_type=Path), help="Write predictions here (default: stdout).")
@click.option("--content-type", "-t", type=click.Choice(CONTENT_TYPES), help="Input format (default: by suffix).")
@env_manager_options(("local",), LOCAL_ONLY)
@click.option(
    "--safe-only",
    is_flag=True,
    help="Refuse models with executable content (pickles, custom Python models, model code); PACK_SAFE_ONLY=1.",
)
@trusted_types_option
@spark_options
def predict(
    *,
    model_uri: str,
    input_path: Path,
    output_path: Path | None,
    content_type: str | None,
    safe_only: bool,
    trusted_types: str,
    **spark: Any,
) -> None:
    """Predict with a model on a data file; print {"predictions": ...}.

    With --engine spark: score a Parquet, CSV or JSON dataset of any size into Parquet (-o DIR).
    """
    if spark["engine"] == "spark":  # the policy checked in the driver, before Spark starts
        _check_model(model_uri, safe_only=safe_only)
    options = load_options(trusted_types)
    if run_on_spark(model_uri, input_path, output_path, content_type, options, safe_only=safe_only, **spark):
        return
    if input_path.is_dir():
        raise InvalidInput(f"{input_path} is a directory, not a file (a directory of files needs --engine spark)")
    from pack.flavors import payloads
    from pack.flavors.pyfunc import load_model

    model = load_model(model_uri, model_config=options, safe_only=safe_only)
    schema = model.signature.inputs if model.signature is not None else None
    data, params = read_data_file(input_path, content_type, schema)
    body = payloads.dumps_predictions(model.predict(data, params))
    if output_path is None:
        click.echo(body.decode())
    else:
        output_path.write_bytes(body + b"\n")


def _check_model(model_uri: str, *, safe_only: bool) -> None:
    """Check the model at ``model_uri`` as its load will (the safe-only policy, shadowing model code),
    without loading it."""
    from pack.flavors.lookup import flavor_for_model
    from pack.flavors.mlmodel import MLModel
    from pack.flavors.safety import check_model
    from pack.uris import resolve

    path = resolve(model_uri).path
    mlmodel = MLModel.load(path)
    check_model(flavor_for_model(mlmodel), path, mlmodel, safe_only=safe_only)


COMMANDS = [log_model, predict]
