"""``pack.projects.run``: fetch a project, check its parameters, record a run, build its environment, and
start its command (MLflow's ``mlflow.projects.run``, same arguments).

Order: everything that can be checked without side effects is checked first (source, MLproject, entry
point, parameters, command template, environment manager, Docker engine), so bad input creates no run.
Then the run is created (tags: source, git commit/branch/dirty, entry point, backend, environment),
its parameters logged, the environment built or reused, and the command started with ``PACK_RUN_ID``/
``MLFLOW_RUN_ID`` and ``PACK_TRACKING_URI``/``MLFLOW_TRACKING_URI`` set, so the script's
``pack.start_run()`` (and MLflow's, against a ``pack server``) records into that same run.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pack.errors import InvalidInput, ProjectError
from pack.projects.cache import ProjectSettings
from pack.projects.command import Command, render
from pack.projects.docker import build_image as build_docker_image
from pack.projects.docker import (
    check_copied_variables,
    container_for,
    docker_executable,
    image_id,
    image_tag,
    remove_container,
)
from pack.projects.environments import EnvironmentPlan, choose_manager, plan_environment, prepare
from pack.projects.params import ResolvedParameters, resolve_parameters
from pack.projects.process import OutputLog, Process, Step, run_step, sink_for
from pack.projects.sources import FetchedProject, fetch_project
from pack.projects.spec import EntryPoint, Project, load_project
from pack.projects.submitted import FAILED, KILLED, LOG_ARTIFACT, SubmittedRun, close_run
from pack.tracking import Client

logger = logging.getLogger("pack.projects")
DEFAULT_EXPERIMENT_ID = "0"
_MAX_TAG = 5000


@dataclass
class _Plan:
    """What was checked before the run exists, and the options that shape its launch."""

    fetched: FetchedProject
    project: Project
    entry: EntryPoint
    manager: str
    params: ResolvedParameters
    command: Command
    storage: Path
    environment: EnvironmentPlan | None = None
    docker: str | None = None
    version: str | None = None
    build_image: bool = False
    docker_args: dict[str, str | bool] = field(default_factory=dict)

    def cleanup(self) -> None:
        """Remove the run's scratch directory and its temporary working copy."""
        shutil.rmtree(self.storage, ignore_errors=True)
        if self.fetched.temporary is not None:
            shutil.rmtree(self.fetched.temporary, ignore_errors=True)


def run(  # noqa: PLR0917 - MLflow's signature
    uri: str = ".",
    entry_point: str = "main",
    version: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    docker_args: Mapping[str, str | bool] | None = None,
    experiment_name: str | None = None,
    experiment_id: str | None = None,
    backend: str = "local",
    backend_config: Mapping[str, Any] | None = None,
    storage_dir: str | None = None,
    synchronous: bool = True,
    run_id: str | None = None,
    run_name: str | None = None,
    env_manager: str | None = None,
    build_image: bool = False,
    *,
    client: Client | None = None,
    settings: ProjectSettings | None = None,
    stdout: IO[Any] | None = None,
    stderr: IO[Any] | None = None,
) -> SubmittedRun:
    """Run an entry point of the project at ``uri`` and record it as a tracking run.

    ``uri``: a directory, a git repository, or a git URL, with ``#subdirectory``; ``version``: a commit,
    branch or tag to check out. ``env_manager``: ``local``, ``virtualenv``, ``uv`` or ``conda``
    (default: what the project declares). ``stdout``/``stderr``: where the command's output goes
    besides the run's ``run.log`` artifact (default: this interpreter's). With ``synchronous`` (the
    default) it waits, and a failed command raises; otherwise call ``wait()`` on what it returns.

    Raises:
        InvalidInput: bad parameters, entry point, MLproject, or an environment manager that does not
            fit (nothing is recorded then). NotFound: no such project or version.
        ProjectError: the environment could not be built, or (``synchronous``) the run failed.
    """
    if backend != "local":
        raise InvalidInput(f"backend {backend!r} is not supported: pack runs projects here (or in their docker_env)")
    if backend_config:
        raise InvalidInput("backend_config applies to remote backends, which pack does not have")
    if experiment_name and experiment_id:
        raise InvalidInput("pass an experiment name or an experiment id, not both")
    chosen = settings or ProjectSettings()
    plan = _check(
        uri,
        entry_point,
        version=version,
        parameters=parameters or {},
        env_manager=env_manager,
        build_image=build_image,
        docker_args=dict(docker_args or {}),
        storage_dir=storage_dir,
        cache_dir=chosen.effective_cache_dir,
    )
    try:
        client = client or Client()
        experiment = _experiment(client, experiment_name, experiment_id)
        active = _start_run(client, plan, experiment=experiment, run_id=run_id, run_name=run_name)
    except BaseException:
        plan.cleanup()
        raise
    log = OutputLog(
        plan.storage / LOG_ARTIFACT,
        sink_for(sys.stdout if stdout is None else stdout),
        sink_for(sys.stderr if stderr is None else stderr),
    )
    submitted = _launch(plan, client, active, experiment=experiment, log=log)
    if synchronous:
        try:
            finished = submitted.wait()
        except BaseException:  # Ctrl-C while waiting: the run and its processes stop too
            submitted.cancel()
            raise
        if not finished:
            raise ProjectError(f"run {active} failed (exit code {submitted.exit_code})")
    return submitted


def _check(
    uri: str,
    entry_point: str,
    *,
    version: str | None,
    parameters: Mapping[str, Any],
    env_manager: str | None,
    build_image: bool,
    docker_args: dict[str, str | bool],
    storage_dir: str | None,
    cache_dir: Path,
) -> _Plan:
    """Everything checked before a run is recorded."""
    cwd = Path.cwd()
    fetched = fetch_project(uri, version, cache_dir=cache_dir, cwd=cwd)
    storage = None
    try:
        project = load_project(fetched.directory)
        entry = project.entry_point(entry_point)
        manager = choose_manager(env_manager, project)
        if build_image and manager != "docker":
            raise InvalidInput("--build-image is for projects with a docker_env")
        if storage_dir is not None:
            Path(storage_dir).mkdir(parents=True, exist_ok=True)
        storage = Path(tempfile.mkdtemp(prefix="pack-run-", dir=storage_dir))
        params = resolve_parameters(
            entry, parameters, project_dir=project.directory, cwd=cwd, download_dir=lambda: storage / "params"
        )
        command = render(entry.command, params.values, params.extras)
        docker = environment = None
        if project.docker is not None:
            check_copied_variables(project.docker, os.environ)
            docker = docker_executable()
        else:
            environment = plan_environment(manager, project, envs_dir=cache_dir / "envs")
    except BaseException:
        if storage is not None:
            shutil.rmtree(storage, ignore_errors=True)
        if fetched.temporary is not None:
            shutil.rmtree(fetched.temporary, ignore_errors=True)
        raise
    return _Plan(
        fetched,
        project,
        entry,
        manager,
        params,
        command,
        storage,
        environment,
        docker,
        version,
        build_image,
        docker_args,
    )


def _experiment(client: Client, name: str | None, experiment_id: str | None) -> str:
    if experiment_id:
        return client.get_experiment(experiment_id).experiment_id
    if name:
        found = client.get_experiment_by_name(name)
        return found.experiment_id if found else client.create_experiment(name)
    return DEFAULT_EXPERIMENT_ID


def _start_run(client: Client, plan: _Plan, *, experiment: str, run_id: str | None, run_name: str | None) -> str:
    """Create the run (or tag ``run_id``) with the project's provenance, and log its parameters."""
    git = plan.fetched.git
    tags = {
        "mlflow.source.name": plan.fetched.source,
        "mlflow.source.type": "PROJECT",
        "mlflow.project.entryPoint": plan.entry.name,
        "mlflow.project.backend": "local",
        "mlflow.project.env": plan.manager,
        "mlflow.source.git.commit": git.commit,
        "mlflow.source.git.branch": git.branch,
        "mlflow.source.git.repoURL": git.repo_url,
        "mlflow.source.git.dirty": None if git.dirty is None else str(git.dirty).lower(),
        "pack.project.name": plan.project.name,
        "pack.project.version": plan.version,
        "pack.project.command": plan.command.display[:_MAX_TAG],
        "pack.project.environment": plan.environment.name if plan.environment else None,
    }
    present = {key: value for key, value in tags.items() if value is not None}
    if run_id is None:
        run_id = client.create_run(experiment, tags=present, run_name=run_name).info.run_id
    else:
        for key, value in present.items():
            client.set_tag(run_id, key, value)
    for key, value in plan.params.logged.items():
        client.log_param(run_id, key, value)
    logger.info("run %s started: %s", run_id, plan.command.display)
    return run_id


def _launch(plan: _Plan, client: Client, run_id: str, *, experiment: str, log: OutputLog) -> SubmittedRun:
    """Build the environment and start the command; a failure here ends the run as FAILED (KILLED on Ctrl-C)."""
    run_env = {
        "PACK_RUN_ID": run_id,
        "MLFLOW_RUN_ID": run_id,
        "PACK_TRACKING_URI": client.tracking_uri,
        "MLFLOW_TRACKING_URI": client.tracking_uri,
        "MLFLOW_EXPERIMENT_ID": experiment,
        "PYTHONUNBUFFERED": "1",
    }
    host = dict(os.environ)

    def step(argv: Sequence[str], cwd: Path) -> None:
        run_step(argv, cwd, env=host, log=log)

    try:
        if plan.environment is None:
            argv, env, on_stop = _docker_command(plan, client, run_id, run_env=run_env, host=host, step=step)
        else:
            environment = prepare(plan.environment, step=step)
            argv, env, on_stop = list(plan.command.argv), environment.apply({**host, **run_env}), None
            if plan.command.shell and shutil.which("bash", path=env.get("PATH")) is None:
                argv[0] = "sh"
        log.note(f"$ {plan.command.display}")
        process = Process(argv, cwd=plan.project.directory, env=env, log=log, on_stop=on_stop)
    except BaseException as exc:
        log.note(f"{type(exc).__name__}: {exc}")
        status = KILLED if isinstance(exc, KeyboardInterrupt) else FAILED
        logger.info("run %s %s before its command started", run_id, status)
        try:
            close_run(client, run_id, log, status, None)
        finally:
            plan.cleanup()
        raise
    return SubmittedRun(run_id, process, client=client, log=log, cleanup=plan.cleanup)


def _docker_command(
    plan: _Plan, client: Client, run_id: str, *, run_env: dict[str, str], host: dict[str, str], step: Step
) -> tuple[list[str], dict[str, str], Callable[[], None]]:
    """``docker run ... IMAGE COMMAND`` for the run (building the image first with ``build_image``)."""
    exe, docker_env = str(plan.docker), plan.project.docker
    if docker_env is None:
        raise InvalidInput("this project has no docker_env")
    image = docker_env.image
    if plan.build_image:
        image = image_tag(plan.project.name, plan.fetched.git.commit)
        build_docker_image(exe, docker_env.image, plan.project.directory, image, step)
    found = image_id(exe, image)
    client.set_tag(run_id, "mlflow.docker.image.uri", image)
    if found:
        client.set_tag(run_id, "mlflow.docker.image.id", found)
    container = container_for(
        run_id,
        docker_env,
        project_dir=plan.project.directory,
        mount_project=not plan.build_image,
        values=plan.params.values,
        paths=plan.params.paths,
        run_env=run_env,
        tracking_uri=client.tracking_uri,
        artifact_uri=client.get_run(run_id).info.artifact_uri,
        docker_args=plan.docker_args,
        host_env=host,
    )
    command = render(plan.entry.command, container.values, plan.params.extras, shell="sh")
    argv = [exe, "run", *container.options, image, *command.argv]
    return argv, {**host, **container.environment}, lambda: remove_container(exe, container.name)


__all__ = ["run"]
