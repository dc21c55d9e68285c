"""``pack server`` (MLflow's REST API, the artifact proxy, users and tokens) and ``pack ui``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from pack.cli.store_options import json_option
from pack.cli.tables import echo_json, echo_table, when

F = TypeVar("F", bound=Callable[..., Any])
UI_EXTRA = "pack.ui.app:create_app"  # the web UI, mounted at / of the server


class ServerOption(click.Option):
    """An option of a ``ServerSettings`` field: unset unless given (the settings read
    ``PACK_SERVER_<FIELD>`` and hold the default); its help comes from the field."""

    def __init__(self, *args: Any, field: str, **kwargs: Any) -> None:
        kwargs.update(default=None, allow_from_autoenv=False)
        super().__init__(*args, **kwargs)
        self.field = field

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from pack.server.settings import ServerSettings

        info = ServerSettings.model_fields[self.field]
        default = info.default
        shown = ",".join(default) if isinstance(default, tuple) else default
        if isinstance(default, bool):
            shown = "on" if default else "off"
        if shown in (None, ""):
            shown = "none"
        self.help = f"{info.description} [default: {shown}; env: PACK_SERVER_{self.field.upper()}]"
        return super().get_help_record(ctx)


def _option(*decls: str, field: str, **kwargs: Any) -> Callable[[F], F]:
    option: Callable[[F], F] = click.option(*decls, cls=ServerOption, field=field, **kwargs)
    return option


def server_options(command: F) -> F:
    """The options of ``pack server`` and ``pack ui`` (MLflow's flag names)."""
    decorators = [
        _option("--backend-store-uri", field="backend_store_uri", metavar="URI"),
        _option("--registry-store-uri", field="registry_store_uri", metavar="URI"),
        _option("--default-artifact-root", field="default_artifact_root", metavar="URI"),
        _option("--artifacts-destination", field="artifacts_destination", metavar="URI"),
        _option("--serve-artifacts/--no-serve-artifacts", field="serve_artifacts"),
        _option("-h", "--host", field="host"),
        _option("-p", "--port", field="port", type=int),
        _option("-w", "--workers", field="workers", type=int),
        _option("--allowed-hosts", field="allowed_hosts", metavar="HOST,..."),
        _option("--cors-allowed-origins", field="cors_allowed_origins", metavar="ORIGIN,..."),
        _option("--auth/--no-auth", field="auth"),
        _option("--max-body-size", field="max_body_size", type=float, metavar="MB"),
        _option("--max-artifact-size", field="max_artifact_size", type=float, metavar="GB"),
        _option("--body-timeout", field="body_timeout", type=float),
        _option("--upload-idle-timeout", field="upload_idle_timeout", type=float),
        _option("--keep-alive-timeout", field="keep_alive_timeout", type=float),
        _option("--max-connections", field="max_connections", type=int),
        _option("--drain-timeout", field="drain_timeout", type=float),
        _option("--access-log/--no-access-log", field="access_log"),
        _option("--log-level", field="log_level", type=click.Choice(["debug", "info", "warning", "error"])),
    ]
    for decorate in reversed(decorators):
        command = decorate(command)
    return command


def _settings(options: dict[str, Any]) -> Any:
    from pack.server.settings import ServerSettings

    given = dict(options)
    for key in ("allowed_hosts", "cors_allowed_origins"):
        if given.get(key) is not None:
            given[key] = tuple(item.strip() for item in given[key].split(",") if item.strip())
    return ServerSettings.build(**given)


def _run(settings: Any) -> None:
    from pack.server.runner import serve

    def listening(host: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        where = settings.destination or settings.default_artifact_root
        auth = ", auth on" if settings.auth else ""
        click.echo(
            f"pack server: listening on http://{shown}:{port} (store {_safe(settings.backend_store_uri)}, "
            f"artifacts {where}{auth})",
            err=True,
        )
        if not settings.auth and not settings.loopback:
            click.echo(
                f"pack server: warning: {shown} is not a loopback address and --auth is off: anyone who can "
                "reach this port can read and change every run and model",
                err=True,
            )

    serve(settings, on_listening=listening, extra=UI_EXTRA)


def _safe(uri: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(uri).render_as_string(hide_password=True)
    except Exception:
        return uri


@click.group("server", invoke_without_command=True, context_settings={"help_option_names": ["--help"]})
@server_options
@click.pass_context
def server(ctx: click.Context, /, **options: Any) -> None:
    """The tracking server: MLflow's REST API (point mlflow.set_tracking_uri at it), the artifact
    proxy, the model registry; ``users`` and ``tokens`` manage access for --auth.

    Every option also reads PACK_SERVER_<OPTION>. Files go to the default artifact root
    (./packruns), served to clients as mlflow-artifacts:/ locations unless --no-serve-artifacts.
    """
    ctx.obj = _settings(options)
    if ctx.invoked_subcommand is None:
        _run(ctx.obj)


@click.command("ui", context_settings={"help_option_names": ["--help"]})
@server_options
def ui(**options: Any) -> None:
    """The same server as pack server, for one person on this machine (as mlflow ui)."""
    _run(_settings(options))


def _users(ctx: click.Context) -> Any:
    from pack.server.auth import Users
    from pack.store.sql import Database, SqlAuthStore

    settings = ctx.obj
    db = Database(settings.backend_store_uri)
    ctx.call_on_close(db.dispose)
    return Users(SqlAuthStore(db))


@server.group("users")
@click.pass_context
def users(ctx: click.Context) -> None:
    """Users of --auth: add, remove, set-role, set-password, list."""
    ctx.obj = ctx.parent.obj if ctx.parent else None


@users.command("add")
@click.argument("username")
@click.option("--role", default="reader", show_default=True, type=click.Choice(["reader", "editor", "admin"]))
@click.password_option("--password", help="The password (prompted when not given).")
@click.pass_context
def users_add(ctx: click.Context, username: str, role: str, password: str) -> None:
    """Add a user with a role (reader, editor, admin)."""
    user = _users(ctx).add(username, password, role)
    click.echo(f"added user {user.username} ({user.role})")


@users.command("remove")
@click.argument("username")
@click.pass_context
def users_remove(ctx: click.Context, username: str) -> None:
    """Remove a user and their tokens."""
    _users(ctx).remove(username)
    click.echo(f"removed user {username}")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(["reader", "editor", "admin"]))
@click.pass_context
def users_set_role(ctx: click.Context, username: str, role: str) -> None:
    """Change a user's role."""
    user = _users(ctx).set_role(username, role)
    click.echo(f"user {user.username} is now {user.role}")


@users.command("set-password")
@click.argument("username")
@click.password_option("--password", help="The new password (prompted when not given).")
@click.pass_context
def users_set_password(ctx: click.Context, username: str, password: str) -> None:
    """Change a user's password."""
    _users(ctx).set_password(username, password)
    click.echo(f"changed the password of {username}")


@users.command("list")
@json_option
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List users and roles."""
    found = _users(ctx).store.list_users()
    rows = [{"username": u.username, "role": u.role, "created": u.creation_time} for u in found]
    if as_json:
        echo_json(rows)
    else:
        echo_table("users", ["user", "role", "created"], [[r["username"], r["role"], when(r["created"])] for r in rows])


@server.group("tokens")
@click.pass_context
def tokens(ctx: click.Context) -> None:
    """API tokens (bearer) of --auth users: create, list, revoke."""
    ctx.obj = ctx.parent.obj if ctx.parent else None


@tokens.command("create")
@click.option("--user", "username", required=True, help="Whose token.")
@click.option("--name", default="token", show_default=True, help="What the token is for.")
@click.pass_context
def tokens_create(ctx: click.Context, username: str, name: str) -> None:
    """Create a token; it is printed once (only its hash is stored)."""
    token, record = _users(ctx).create_token(username, name)
    click.echo(f"token {record.token_id} for {record.username} ({record.name}); it is shown only now:", err=True)
    click.echo(token)


@tokens.command("list")
@click.option("--user", "username", default=None, help="Only this user's tokens.")
@json_option
@click.pass_context
def tokens_list(ctx: click.Context, username: str | None, as_json: bool) -> None:
    """List tokens (never their values)."""
    found = _users(ctx).store.list_tokens(username)
    rows = [{"id": t.token_id, "user": t.username, "name": t.name, "created": t.creation_time} for t in found]
    if as_json:
        echo_json(rows)
    else:
        echo_table(
            "tokens",
            ["id", "user", "name", "created"],
            [[r["id"], r["user"], r["name"], when(r["created"])] for r in rows],
        )


@tokens.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def tokens_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke a token by id."""
    _users(ctx).store.delete_token(token_id)
    click.echo(f"revoked token {token_id}")


COMMANDS = [server, ui]
