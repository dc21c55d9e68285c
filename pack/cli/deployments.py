"""``pack deployments create|update|delete|list|get|predict|help``: MLflow's command, pack's targets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pack.cli.params import EXISTING_FILE
from pack.cli.tables import echo_fields, echo_json, echo_table

if TYPE_CHECKING:
    from pack.builders.base import Progress
    from pack.deploy.base import BaseDeploymentClient

EXIT_INTERRUPTED = 130

target_option = click.option(
    "--target",
    "-t",
    "target",
    envvar="PACK_DEPLOYMENTS_TARGET",
    required=True,
    help="docker, kubernetes, sagemaker[:/region] or <plugin>:/... (default: $PACK_DEPLOYMENTS_TARGET).",
)
name_option = click.option("--name", required=True, help="The deployment's name.")
config_option = click.option(
    "--config", "-C", "config", multiple=True, metavar="KEY=VALUE", help="Target option (pack deployments help -t T)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")
verbose_option = click.option("--verbose", "-v", is_flag=True, help="Print every progress line (build log too).")
endpoint_option = click.option("--endpoint", hidden=True, help="MLflow's endpoint argument, passed to plugins.")


class _Display:
    """Progress on stderr: a transient spinner in a terminal; every line with --verbose; else quiet."""

    def __init__(self, verbose: bool) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.verbose = verbose
        self.status: Any = None

    def __enter__(self) -> _Display:
        if self.console.is_terminal:
            self.status = self.console.status("starting", spinner="dots")
            self.status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()

    def __call__(self, event: Progress) -> None:
        if self.status is not None:
            self.status.update(event.message[:100])
        if self.verbose:
            self.console.print(event.message, markup=False, style="dim", soft_wrap=True)


def _client(target: str, display: _Display | None = None) -> BaseDeploymentClient:
    from pack.deploy.targets import get_deploy_client

    return get_deploy_client(target, progress=display)


def _config(pairs: tuple[str, ...]) -> dict[str, str]:
    from pack.deploy.options import config_pairs

    return config_pairs(pairs)


def _run(action: str, name: str, target: str, call: Any) -> Any:
    """Run ``call``; a Ctrl-C says what state the deployment was left in, then exits 130."""
    try:
        return call()
    except KeyboardInterrupt:
        click.echo(
            f"error: {action} of {name!r} interrupted; the deployment is left consistent: "
            f"pack deployments get -t {target} --name {name}",
            err=True,
        )
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


def _summary(verb: str, deployment: Mapping[str, Any], target: str) -> str:
    plain = _plain(deployment)
    model = plain.get("model") or {}
    what = f"{model.get('name')} version {model.get('version')}" if model else "its model"
    where = f" at {plain['endpoint']}" if plain.get("endpoint") else ""
    state = f" ({plain['state']})" if plain.get("state") else ""
    return f"{verb} {plain.get('name')} on {target}: {what}{where}{state}"


def _plain(deployment: Mapping[str, Any]) -> dict[str, Any]:
    to_dict = getattr(deployment, "to_dict", None)
    return to_dict() if callable(to_dict) else dict(deployment)


@click.group("deployments")
def deployments() -> None:
    """Put a model version on a target, roll it forward or back, see where it runs, remove it."""


@deployments.command("create")
@target_option
@name_option
@click.option("--model-uri", "-m", required=True, help="Model path or URI (models:/name/Production, ...).")
@click.option("--flavor", "-f", help="Flavor to serve (pack's targets serve python_function).")
@config_option
@endpoint_option
@verbose_option
def create(
    *,
    target: str,
    name: str,
    model_uri: str,
    flavor: str | None,
    config: tuple[str, ...],
    endpoint: str | None,
    verbose: bool,
) -> None:
    """Deploy MODEL_URI as NAME and wait until it answers."""
    options = _config(config)
    with _Display(verbose) as display:
        client = _client(target, display)
        created = _run(
            "create", name, target, lambda: client.create_deployment(name, model_uri, flavor, options, endpoint)
        )
    click.echo(_summary("created", created, target))


@deployments.command("update")
@target_option
@name_option
@click.option("--model-uri", "-m", help="The model to move to (default: the one it runs, with the new config).")
@click.option("--flavor", "-f", help="Flavor to serve (pack's targets serve python_function).")
@config_option
@endpoint_option
@verbose_option
def update(
    *,
    target: str,
    name: str,
    model_uri: str | None,
    flavor: str | None,
    config: tuple[str, ...],
    endpoint: str | None,
    verbose: bool,
) -> None:
    """Move NAME to another model version (or config) without a window of unavailability."""
    options = _config(config)
    with _Display(verbose) as display:
        client = _client(target, display)
        updated = _run(
            "update", name, target, lambda: client.update_deployment(name, model_uri, flavor, options, endpoint)
        )
    click.echo(_summary("updated", updated, target))


@deployments.command("delete")
@target_option
@name_option
@config_option
@endpoint_option
@verbose_option
def delete(target: str, name: str, config: tuple[str, ...], endpoint: str | None, verbose: bool) -> None:
    """Remove NAME and everything it made on the target."""
    options = _config(config)
    with _Display(verbose) as display:
        client = _client(target, display)
        _run("delete", name, target, lambda: client.delete_deployment(name, options, endpoint))
    click.echo(f"deleted {name} from {target}")


@deployments.command("list")
@target_option
@endpoint_option
@json_option
def list_(target: str, endpoint: str | None, as_json: bool) -> None:
    """The deployments on a target, with the model version each runs."""
    found = [_plain(d) for d in _client(target).list_deployments(endpoint)]
    if as_json:
        echo_json(found)
        return
    rows = []
    for item in found:
        model = item.get("model") or {}
        rows.append(
            (item.get("name"), model.get("name"), model.get("version"), item.get("state"), item.get("endpoint"))
        )
    echo_table(f"deployments on {target}", ["name", "model", "version", "state", "endpoint"], rows)


@deployments.command("get")
@target_option
@name_option
@endpoint_option
@json_option
def get(target: str, name: str, endpoint: str | None, as_json: bool) -> None:
    """One deployment: its state, model version (name, version, checksum, source) and endpoint."""
    item = _plain(_client(target).get_deployment(name, endpoint))
    if as_json:
        echo_json(item)
        return
    model = item.get("model") or {}
    fields = [
        ("target", item.get("target", target)),
        ("state", item.get("state")),
        ("model", model.get("name")),
        ("version", model.get("version")),
        ("checksum", model.get("checksum")),
        ("source", model.get("source")),
        ("endpoint", item.get("endpoint")),
    ]
    details = item.get("details") or {}
    fields += [(key, json.dumps(value) if isinstance(value, (dict, list)) else value) for key, value in details.items()]
    echo_fields(f"deployment {item.get('name', name)}", [(k, v) for k, v in fields if v not in (None, "", [], {})])


@deployments.command("predict")
@target_option
@name_option
@click.option(
    "--input-path",
    "-I",
    "-i",
    "input_path",
    required=True,
    type=EXISTING_FILE,
)
@click.option("--output-path", "-O", "-o", "output_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--content-type", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@endpoint_option
def predict(
    *, target: str, name: str, input_path: Path, output_path: Path | None, content_type: str, endpoint: str | None
) -> None:
    """Score the rows of a JSON (a scoring body or records) or CSV file on NAME."""
    inputs: Any
    if content_type == "csv":
        import pandas as pd

        inputs = pd.read_csv(input_path)
    else:
        try:
            inputs = json.loads(input_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            from pack.errors import InvalidInput

            raise InvalidInput(f"{input_path} is not JSON: {exc}") from None
    answer = _client(target).predict(name, inputs, endpoint)
    text = json.dumps(_plain(answer) if isinstance(answer, Mapping) else answer)
    if output_path is None:
        click.echo(text)
    else:
        output_path.write_text(text + "\n", encoding="utf-8")


@deployments.command("help")
@target_option
def help_(target: str) -> None:
    """What a target takes: its URI and its -C keys."""
    from pack.deploy.targets import target_help

    click.echo(target_help(target))


COMMANDS = [deployments]
