"""``pack models ...``: the model registry from the command line."""

from __future__ import annotations

from typing import Any

import click

from pack.cli.store_options import json_option, open_services, store_options
from pack.cli.tables import echo_fields, echo_json, echo_table, size, when
from pack.errors import InvalidInput


def _client(backend_store_uri: str | None, default_artifact_root: str | None) -> Any:
    from pack.tracking.client import Client

    return Client(services=open_services(backend_store_uri, default_artifact_root))


@click.group("models")
def models() -> None:
    """Registered models: list, describe, versions, register, transition, alias, tag, history, delete."""


@models.command("list")
@click.option("--filter", "filter_string", default=None, help="e.g. \"name LIKE 'fraud%'\" or \"tags.team='x'\".")
@click.option("--max-results", default=100, show_default=True, help="Page size.")
@click.option("--page-token", default=None, help="Token printed by the previous page.")
@json_option
@store_options
def list_models(
    filter_string: str | None, max_results: int, page_token: str | None, as_json: bool, **store: str | None
) -> None:
    """List registered models."""
    page = _client(**store).search_registered_models(filter_string, max_results, None, page_token)
    if as_json:
        echo_json({"registered_models": list(page), "next_page_token": page.token})
        return
    echo_table(
        None,
        ["name", "latest", "stages", "aliases", "updated"],
        [
            (
                model.name,
                max((v.version for v in model.latest_versions), default=""),
                ", ".join(
                    f"{v.current_stage}: v{v.version}" for v in model.latest_versions if v.current_stage != "None"
                ),
                ", ".join(f"@{alias}: v{version}" for alias, version in model.aliases.items()),
                when(model.last_updated_timestamp),
            )
            for model in page
        ],
    )
    if page.token:
        click.echo(f"more: --page-token {page.token}")


@models.command("describe")
@click.argument("name")
@json_option
@store_options
def describe(name: str, as_json: bool, **store: str | None) -> None:
    """Show a registered model."""
    model = _client(**store).get_registered_model(name)
    if as_json:
        echo_json(model)
        return
    echo_fields(
        model.name,
        [
            ("description", model.description),
            ("created", when(model.creation_timestamp)),
            ("updated", when(model.last_updated_timestamp)),
            ("tags", ", ".join(f"{k}={v}" for k, v in model.tags.items())),
            ("aliases", ", ".join(f"@{a} -> v{v}" for a, v in model.aliases.items())),
            *[(f"latest {v.current_stage}", f"v{v.version} ({v.status})") for v in model.latest_versions],
        ],
    )


@models.command("versions")
@click.argument("name")
@click.option("--stage", default=None, help="Only versions in this stage.")
@click.option("--max-results", default=1000, show_default=True, help="Page size.")
@click.option("--page-token", default=None, help="Token printed by the previous page.")
@json_option
@store_options
def versions(
    name: str, stage: str | None, max_results: int, page_token: str | None, as_json: bool, **store: str | None
) -> None:
    """List the versions of a model, newest first."""
    client = _client(**store)
    client.get_registered_model(name)  # not found -> one-line error
    query = f"name = '{_quote(name)}'" + (f" AND current_stage = '{_quote(stage)}'" if stage else "")
    page = client.search_model_versions(query, max_results, None, page_token)
    if as_json:
        echo_json({"model_versions": list(page), "next_page_token": page.token})
        return
    echo_table(
        name,
        ["version", "stage", "status", "aliases", "created", "by", "size", "run_id"],
        [
            (
                v.version,
                v.current_stage,
                v.status,
                " ".join(f"@{a}" for a in v.aliases),
                when(v.creation_timestamp),
                v.user_id,
                size(v.size_bytes),
                v.run_id,
            )
            for v in page
        ],
    )
    if page.token:
        click.echo(f"more: --page-token {page.token}")


@models.command("register")
@click.argument("model_uri")
@click.argument("name")
@json_option
@store_options
def register(model_uri: str, name: str, as_json: bool, **store: str | None) -> None:
    """Register MODEL_URI (path, runs:/..., models:/...) as a new version of NAME."""
    version = open_services(**store).registry.register_model(model_uri, name)
    if as_json:
        echo_json(version)
    else:
        files = f" ({version.file_count} files, {size(version.size_bytes)})" if version.file_count is not None else ""
        click.echo(f"registered {name} version {version.version}{files}")


@models.command("transition")
@click.argument("name")
@click.argument("version")
@click.argument("stage")
@click.option("--archive-existing", is_flag=True, help="Archive the other versions in STAGE (Staging/Production).")
@store_options
def transition(name: str, version: str, stage: str, archive_existing: bool, **store: str | None) -> None:
    """Move VERSION of NAME to STAGE (None, Staging, Production, Archived)."""
    moved = _client(**store).transition_model_version_stage(name, version, stage, archive_existing)
    click.echo(f"{name} version {moved.version} is now in {moved.current_stage}")


@models.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", "remove", is_flag=True, help="Remove the alias instead.")
@store_options
def alias(name: str, alias: str, version: str | None, remove: bool, **store: str | None) -> None:
    """Point ALIAS of NAME at VERSION (or remove it with --delete)."""
    client = _client(**store)
    if remove:
        client.delete_registered_model_alias(name, alias)
        click.echo(f"removed alias @{alias} of {name}")
        return
    if version is None:
        raise InvalidInput("give the VERSION the alias should point to (or --delete)")
    client.set_registered_model_alias(name, alias, version)
    click.echo(f"{name}@{alias} -> version {version}")


@models.command("tag")
@click.argument("name")
@click.argument("key")
@click.argument("value", required=False)
@click.option("--version", default=None, help="Tag this version instead of the model.")
@click.option("--delete", "remove", is_flag=True, help="Remove the tag instead.")
@store_options
def tag(name: str, key: str, value: str | None, version: str | None, remove: bool, **store: str | None) -> None:
    """Set tag KEY=VALUE on a model (or one --version), or remove it with --delete."""
    client = _client(**store)
    target = name if version is None else f"{name} version {version}"
    if remove:
        if version is None:
            client.delete_registered_model_tag(name, key)
        else:
            client.delete_model_version_tag(name, version, key)
        click.echo(f"removed tag {key} of {target}")
        return
    if value is None:
        raise InvalidInput("give the tag's VALUE (or --delete)")
    if version is None:
        client.set_registered_model_tag(name, key, value)
    else:
        client.set_model_version_tag(name, version, key, value)
    click.echo(f"{target}: {key}={value}")


@models.command("history")
@click.argument("name")
@click.option("--version", default=None, help="Only this version.")
@click.option("--max-results", default=1000, show_default=True, help="Page size.")
@click.option("--page-token", default=None, help="Token printed by the previous page.")
@json_option
@store_options
def history(
    name: str,
    version: str | None,
    max_results: int,
    page_token: str | None,
    as_json: bool,
    **store: str | None,
) -> None:
    """Who moved which version to which stage or alias, and when (newest first)."""
    page = _client(**store).get_model_version_history(name, version, max_results, page_token)
    if as_json:
        echo_json({"events": list(page), "next_page_token": page.token})
        return
    echo_table(
        f"{name} history",
        ["when", "who", "version", "change", "from", "to", "note"],
        [
            (
                when(e.timestamp),
                e.user,
                e.version,
                "stage" if e.kind == "stage" else f"alias @{e.alias}",
                e.from_value,
                e.to_value,
                e.reason,
            )
            for e in page
        ],
    )
    if page.token:
        click.echo(f"more: --page-token {page.token}")


@models.command("delete")
@click.argument("name")
@click.option("--version", default=None, help="Delete only this version.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@store_options
def delete(name: str, version: str | None, yes: bool, **store: str | None) -> None:
    """Delete a model (all versions and files) or one --version."""
    client = _client(**store)
    target = f"{name} version {version}" if version else f"model {name} with all its versions"
    if version is None:
        client.get_registered_model(name)
    else:
        client.get_model_version(name, version)
    if not yes:
        click.confirm(f"delete {target}?", abort=True)
    if version is None:
        client.delete_registered_model(name)
    else:
        client.delete_model_version(name, version)
    click.echo(f"deleted {target}")


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


COMMANDS = [models]

__all__ = ["COMMANDS", "models"]
