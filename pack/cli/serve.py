"""``pack serve``: the scoring server (MLflow's /invocations and the Open Inference Protocol)."""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pack.cli.load_options import load_options, trusted_types_option
from pack.cli.mlflow_compat import LOCAL_ONLY, env_manager_options
from pack.errors import InvalidInput
from pack.names import clean_name
from pack.uris import scheme_of

F = TypeVar("F", bound=Callable[..., Any])
_PREFIX = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)(?::(?P<version>[A-Za-z0-9_.-]+))?=(?P<uri>.+)$")


def parse_model_arg(arg: str) -> tuple[str | None, str | None, str]:
    """``[NAME[:VERSION]=]URI`` -> ``(name, version, uri)`` (None where not given)."""
    match = _PREFIX.match(arg)
    if match and not os.path.exists(arg):
        return match["name"], match["version"], match["uri"]
    return None, None, arg


def default_name_version(uri: str, path: Path) -> tuple[str, str]:
    """The name and version a local (or runs:/) model is served under when the command line does not say."""
    scheme = scheme_of(uri)
    stem = "" if scheme else Path(uri.rstrip("/")).name
    if scheme == "runs":
        stem = uri.rstrip("/").rsplit("/", 1)[-1]
    name = clean_name(stem or path.name, max_length=128) or "model"
    return name, "1"


def resolve_models(args: tuple[str, ...], *, safe_only: bool = False) -> list[Any]:
    """Resolve every ``[NAME[:VERSION]=]URI`` to a local ``ModelSpec`` (models:/ and runs:/ included).

    A registered version's spec carries the registry's checksums, so every worker verifies the files
    it loads; each spec carries its parsed MLmodel, so the server reads it once. Each model is checked
    as its load will check it (a directory that is not a model, executable content under the
    safe-only policy, model code that shadows a module), before anything is bound.
    """
    from pack.flavors.lookup import flavor_for_model
    from pack.flavors.mlmodel import MLModel
    from pack.flavors.safety import check_model
    from pack.serving.settings import ModelSpec
    from pack.uris import resolve

    specs = []
    for arg in args:
        name, version, uri = parse_model_arg(arg)
        resolved = resolve(uri)
        mlmodel = MLModel.load(resolved.path)  # fail here, before binding, on a directory that is not a model
        check_model(flavor_for_model(mlmodel), resolved.path, mlmodel, safe_only=safe_only)
        if resolved.name is not None and resolved.version is not None:
            default_name, default_version = resolved.name, str(resolved.version)
        else:
            default_name, default_version = default_name_version(uri, resolved.path)
        specs.append(
            ModelSpec(
                name=name or default_name,
                path=resolved.path,
                version=version or default_version,
                files=resolved.files or None,  # () for unregistered models: nothing to verify
                mlmodel=mlmodel,
            )
        )
    seen: set[tuple[str, str]] = set()
    for spec in specs:
        if (spec.name, spec.version) in seen:
            raise InvalidInput(
                f"two models would be served as {spec.name!r} version {spec.version}; name them: NAME[:VERSION]=URI"
            )
        seen.add((spec.name, spec.version))
    return specs


class SettingOption(click.Option):
    """An option of a ``ServingSettings`` field: unset unless given on the command line (the settings
    model reads ``PACK_SERVE_<FIELD>`` and holds the default); its help comes from the field."""

    def __init__(self, *args: Any, field: str, **kwargs: Any) -> None:
        kwargs.update(default=None, allow_from_autoenv=False)
        super().__init__(*args, **kwargs)
        self.field = field

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from pack.serving.settings import ServingSettings

        info = ServingSettings.model_fields[self.field]
        default = info.default
        shown = ",".join(default) if isinstance(default, tuple) else default
        if shown in (None, ""):
            shown = "none"
        if isinstance(default, bool):
            shown = "on" if default else "off"
        self.help = f"{info.description} [default: {shown}; env: PACK_SERVE_{self.field.upper()}]"
        return super().get_help_record(ctx)


def _setting(*decls: str, field: str, **kwargs: Any) -> Callable[[F], F]:
    option: Callable[[F], F] = click.option(*decls, cls=SettingOption, field=field, **kwargs)
    return option


def _hosts(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(item.strip() for item in value.split(",") if item.strip())


@click.command("serve", context_settings={"help_option_names": ["--help"]})
@click.argument("model_uris", nargs=-1, metavar="[NAME[:VERSION]=]MODEL_URI...")
@click.option(
    "-m",
    "--model-uri",
    "model_uri_options",
    multiple=True,
    help="A model to serve, as MLflow spells it (the same as a MODEL_URI argument; repeatable).",
)
@_setting("-h", "--host", field="host")
@_setting("-p", "--port", field="port", type=int)
@_setting("-w", "--workers", field="workers", type=int)
@_setting("-t", "--timeout", field="timeout", type=float)
@_setting("--max-batch-size", field="max_batch_size", type=int)
@_setting("--max-batch-delay-ms", field="max_batch_delay_ms", type=float)
@_setting("--max-body-size", field="max_body_size", type=float)
@_setting("--body-timeout", field="body_timeout", type=float)
@_setting("--keep-alive-timeout", field="keep_alive_timeout", type=float)
@_setting("--max-concurrency", field="max_concurrency", type=int)
@_setting("--max-queue-rows", field="max_queue_rows", type=int)
@_setting("--ready-grace", field="ready_grace", type=float)
@_setting("--liveness-timeout", field="liveness_timeout", type=float)
@_setting("--drain-timeout", field="drain_timeout", type=float)
@_setting("--allowed-hosts", field="allowed_hosts", metavar="HOST,...")
@_setting("--cors-allowed-origins", field="cors_allowed_origins", metavar="ORIGIN,...")
@_setting("--auth-token", field="auth_token", metavar="TOKEN")
@_setting("--expose-errors/--no-expose-errors", field="expose_errors")
@_setting("--access-log/--no-access-log", field="access_log")
@_setting("--log-level", field="log_level", type=click.Choice(["debug", "info", "warning", "error"]))
@_setting("--safe-only", field="safe_only", is_flag=True)
@env_manager_options(("local",), LOCAL_ONLY)
@_setting("--accelerate/--no-accelerate", field="accelerate")
@trusted_types_option
def serve(model_uris: tuple[str, ...], model_uri_options: tuple[str, ...], trusted_types: str, **options: Any) -> None:
    """Serve one or more models over HTTP.

    MODEL_URI is a path, file://, runs:/<run_id>/<path>, or models:/<name>/<version|stage|latest>
    or models:/<name>@<alias>. A model is served under its registered name (or its directory name);
    NAME[:VERSION]=URI chooses. Routes: POST /invocations[/NAME] (MLflow), /v2/... (Open Inference
    Protocol), GET /ping, /health, /metrics, /openapi.json, /docs. Every option also reads
    PACK_SERVE_<OPTION> (e.g. PACK_SERVE_PORT), except --trusted-types: PACK_TRUSTED_TYPES;
    PACK_SAFE_ONLY=1 is --safe-only. -h is --host, as in MLflow; --help prints this help.
    """
    # Starting up (imports, the model's load) makes next to no cyclic garbage, yet the collector's
    # passes over it cost ~10% of the start: collect nothing until the models are loaded.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _serve((*model_uri_options, *model_uris), trusted_types, options, gc.enable if collecting else None)
    finally:
        if collecting:
            gc.enable()


def _serve(
    model_uris: tuple[str, ...], trusted_types: str, options: dict[str, Any], on_loaded: Callable[[], None] | None
) -> None:
    from pack.serving.server import serve as run_server
    from pack.serving.settings import ServingSettings

    given = {key: value for key, value in options.items() if value is not None}
    for key in ("allowed_hosts", "cors_allowed_origins"):
        if key in given:
            given[key] = _hosts(given[key])
    settings = ServingSettings.build(**given, load_options=load_options(trusted_types))
    if not model_uris:
        raise click.UsageError("give the model to serve: pack serve MODEL_URI (or -m MODEL_URI)")
    models = resolve_models(model_uris, safe_only=settings.safe_only)

    def listening(bound_host: str, bound_port: int) -> None:
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        names = ", ".join(f"{m.name} v{m.version}" for m in models)
        click.echo(f"pack serve: listening on http://{shown}:{bound_port} ({names})", err=True)

    if settings.workers > 1 and on_loaded is not None:
        on_loaded()  # this process only supervises; each worker loads the models
    run_server(models, settings, on_listening=listening, on_loaded=on_loaded)


COMMANDS = [serve]
