"""``pack runs ...`` and ``pack experiments ...``: tracking from the command line."""

from __future__ import annotations

from typing import Any

import click

from pack.cli.store_options import json_option, open_services, store_options
from pack.cli.tables import echo_fields, echo_json, echo_table, size, when
from pack.errors import NotFound


def _client(backend_store_uri: str | None, default_artifact_root: str | None) -> Any:
    from pack.tracking.client import Client

    return Client(services=open_services(backend_store_uri, default_artifact_root))


def _experiment_id(client: Any, experiment: str | None) -> str:
    if experiment is None:
        return "0"
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        return str(found.experiment_id)
    if experiment.isdigit():
        return str(client.get_experiment(experiment).experiment_id)
    raise NotFound(f"experiment {experiment!r} not found")


@click.group("runs")
def runs() -> None:
    """Tracked runs: list, describe."""


@runs.command("list")
@click.option("--experiment", "-e", default=None, help="Experiment name or id (default: Default).")
@click.option("--filter", "filter_string", default="", help="e.g. \"metrics.acc > 0.9 AND params.depth = '8'\".")
@click.option("--max-results", default=100, show_default=True, help="Page size.")
@click.option("--page-token", default=None, help="Token printed by the previous page.")
@json_option
@store_options
def list_runs(
    experiment: str | None,
    filter_string: str,
    max_results: int,
    page_token: str | None,
    as_json: bool,
    **store: str | None,
) -> None:
    """List runs of an experiment, newest first."""
    client = _client(**store)
    page = client.search_runs(
        [_experiment_id(client, experiment)], filter_string, max_results=max_results, page_token=page_token
    )
    if as_json:
        echo_json({"runs": list(page), "next_page_token": page.token})
        return
    echo_table(
        None,
        ["run_id", "name", "status", "started", "metrics", "params"],
        [
            (
                run.info.run_id,
                run.info.run_name,
                run.info.status,
                when(run.info.start_time),
                ", ".join(f"{k}={v:.4g}" for k, v in sorted(run.data.metrics.items())),
                ", ".join(f"{k}={v}" for k, v in sorted(run.data.params.items())),
            )
            for run in page
        ],
    )
    if page.token:
        click.echo(f"more: --page-token {page.token}")


@runs.command("describe")
@click.argument("run_id")
@json_option
@store_options
def describe_run(run_id: str, as_json: bool, **store: str | None) -> None:
    """Show a run: status, params, latest metrics, tags and artifacts."""
    client = _client(**store)
    run = client.get_run(run_id)
    artifacts = client.list_artifacts(run_id)
    if as_json:
        echo_json({"run": run, "artifacts": artifacts})
        return
    info = run.info
    echo_fields(
        f"run {info.run_id}",
        [
            ("name", info.run_name),
            ("experiment", info.experiment_id),
            ("status", info.status),
            ("user", info.user_id),
            ("started", when(info.start_time)),
            ("ended", when(info.end_time)),
            ("artifacts", info.artifact_uri),
        ],
    )
    for title, values in (
        ("params", run.data.params),
        ("metrics", run.data.metrics),
        ("tags", run.data.tags),
    ):
        if values:
            echo_fields(title, sorted(values.items()))
    if artifacts:
        echo_fields("files", [(a.path + ("/" if a.is_dir else ""), size(a.file_size)) for a in artifacts])


@click.group("experiments")
def experiments() -> None:
    """Experiments: list, create."""


@experiments.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include deleted experiments.")
@json_option
@store_options
def list_experiments(show_all: bool, as_json: bool, **store: str | None) -> None:
    """List experiments."""
    from pack.store import ViewType

    page = _client(**store).search_experiments(ViewType.ALL if show_all else ViewType.ACTIVE_ONLY)
    if as_json:
        echo_json({"experiments": list(page), "next_page_token": page.token})
        return
    echo_table(
        None,
        ["id", "name", "state", "created", "artifact location"],
        [(e.experiment_id, e.name, e.lifecycle_stage, when(e.creation_time), e.artifact_location) for e in page],
    )


@experiments.command("create")
@click.argument("name")
@click.option("--artifact-location", default=None, help="Where its runs' files go (default: <root>/<id>).")
@store_options
def create_experiment(name: str, artifact_location: str | None, **store: str | None) -> None:
    """Create an experiment."""
    experiment_id = _client(**store).create_experiment(name, artifact_location)
    click.echo(f"created experiment {name!r} with id {experiment_id}")


COMMANDS = [runs, experiments]

__all__ = ["COMMANDS", "experiments", "runs"]
