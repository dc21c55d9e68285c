"""``pack serve``: the scoring server (MLflow's /invocations and the Open Inference Protocol)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click

from pack.cli.mlflow_compat import LOCAL_ONLY, env_manager_options
from pack.errors import InvalidInput

_PREFIX = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)(?::(?P<version>[A-Za-z0-9_.-]+))?=(?P<uri>.+)$")


def parse_model_arg(arg: str) -> tuple[str | None, str | None, str]:
    """``[NAME[:VERSION]=]URI`` -> ``(name, version, uri)`` (None where not given)."""
    match = _PREFIX.match(arg)
    if match and not os.path.exists(arg):
        return match["name"], match["version"], match["uri"]
    return None, None, arg


def default_name_version(uri: str, path: Path) -> tuple[str, str]:
    """The name and version a local (or runs:/) model is served under when the command line does not say."""
    stem = Path(uri.rstrip("/")).name if "://" not in uri and not uri.startswith("runs:/") else ""
    if uri.startswith("runs:/"):
        stem = uri.rstrip("/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", stem or path.name).lstrip("-_.") or "model"
    return name, "1"


def resolve_models(args: tuple[str, ...], *, safe_only: bool = False) -> list[Any]:
    """Resolve every ``[NAME[:VERSION]=]URI`` to a local ``ModelSpec`` (models:/ and runs:/ included).

    Each model is checked as its load will check it (a directory that is not a model, executable
    content under the safe-only policy, model code that shadows a module), before anything is bound.
    """
    from pack.cli.resolve import resolve_model
    from pack.flavors.lookup import flavor_for_model
    from pack.flavors.mlmodel import MLModel
    from pack.flavors.safety import check_model
    from pack.serving.settings import ModelSpec

    specs = []
    for arg in args:
        name, version, uri = parse_model_arg(arg)
        resolved = resolve_model(uri)
        mlmodel = MLModel.load(resolved.path)
        check_model(flavor_for_model(mlmodel), resolved.path, mlmodel, safe_only=safe_only)
        if resolved.name is not None and resolved.version is not None:
            default_name, default_version = resolved.name, resolved.version
        else:
            default_name, default_version = default_name_version(uri, resolved.path)
        specs.append(ModelSpec(name=name or default_name, path=resolved.path, version=version or default_version))
    seen: set[tuple[str, str]] = set()
    for spec in specs:
        if (spec.name, spec.version) in seen:
            raise InvalidInput(
                f"two models would be served as {spec.name!r} version {spec.version}; name them: NAME[:VERSION]=URI"
            )
        seen.add((spec.name, spec.version))
    return specs


@click.command("serve", context_settings={"help_option_names": ["--help"]})
@click.argument("model_uris", nargs=-1, metavar="[NAME[:VERSION]=]MODEL_URI...")
@click.option(
    "-m",
    "--model-uri",
    "model_uri_options",
    multiple=True,
    help="A model to serve, as MLflow spells it (the same as a MODEL_URI argument; repeatable).",
)
@click.option(
    "-h",
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface (0.0.0.0 in a container). -h is --host, as in MLflow; help is --help.",
)
@click.option("-p", "--port", default=5000, show_default=True, type=int, help="Port (0: any free port).")
@click.option("-w", "--workers", default=1, show_default=True, type=int, help="Worker processes.")
@click.option("-t", "--timeout", default=60.0, show_default=True, type=float, help="Seconds per request.")
@click.option(
    "--max-batch-size",
    default=1024,
    show_default=True,
    type=int,
    help="Most rows per predict call (1: no batching).",
)
@click.option(
    "--max-batch-delay-ms",
    default=0.0,
    show_default=True,
    type=float,
    help="Wait this long for more requests before a batch runs (0: never wait).",
)
@click.option("--max-body-size", default=64.0, show_default=True, type=float, help="Largest request body, in MB.")
@click.option(
    "--drain-timeout",
    default=30.0,
    show_default=True,
    type=float,
    help="Seconds SIGTERM waits for in-flight requests.",
)
@click.option(
    "--safe-only",
    is_flag=True,
    help="Refuse models with executable content (pickles, custom Python models, model code).",
)
@click.option("--access-log/--no-access-log", default=False, show_default=True, help="Log every request.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@env_manager_options(("local",), LOCAL_ONLY)
def serve(  # noqa: PLR0917 (one parameter per click option)
    model_uris: tuple[str, ...],
    model_uri_options: tuple[str, ...],
    host: str,
    port: int,
    workers: int,
    timeout: float,
    max_batch_size: int,
    max_batch_delay_ms: float,
    max_body_size: float,
    drain_timeout: float,
    safe_only: bool,
    access_log: bool,
    log_level: str,
) -> None:
    """Serve one or more models over HTTP.

    MODEL_URI is a path, file://, runs:/<run_id>/<path>, or models:/<name>/<version|stage|latest>
    or models:/<name>@<alias>. A model is served under its registered name (or its directory name);
    NAME[:VERSION]=URI chooses. Routes: POST /invocations[/NAME] (MLflow), /v2/... (Open Inference
    Protocol), GET /ping, /health, /metrics, /openapi.json, /docs. Every option also reads
    PACK_SERVE_<OPTION> (e.g. PACK_SERVE_PORT); PACK_TRUSTED_TYPES lists extra skops types to trust;
    PACK_SAFE_ONLY=1 is --safe-only.
    """
    from pack.cli.models import _trusted_types_config
    from pack.serving.server import serve as run_server
    from pack.serving.settings import ServingSettings

    model_uris = (*model_uri_options, *model_uris)
    if not model_uris:
        raise click.UsageError("give the model to serve: pack serve MODEL_URI (or -m MODEL_URI)")
    settings = ServingSettings(
        host=host,
        port=port,
        workers=workers,
        timeout=timeout,
        max_batch_size=max_batch_size,
        max_batch_delay_ms=max_batch_delay_ms,
        max_body_size_mb=max_body_size,
        drain_timeout=drain_timeout,
        access_log=access_log,
        log_level=log_level,
        model_config=_trusted_types_config(),
        safe_only=safe_only,
    )
    models = resolve_models(model_uris, safe_only=safe_only)

    def listening(bound_host: str, bound_port: int) -> None:
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        names = ", ".join(f"{m.name} v{m.version}" for m in models)
        click.echo(f"pack serve: listening on http://{shown}:{bound_port} ({names})", err=True)

    run_server(models, settings, on_listening=listening)


COMMANDS = [serve]
