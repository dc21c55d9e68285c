"""MLflow Projects: ``pack run`` / ``pack.projects.run`` execute an MLproject's entry point reproducibly
(typed parameters, a cached environment, git sources) and record the execution as a tracking run.

    submitted = pack.projects.run(".", parameters={"epochs": 3}, env_manager="uv")
    submitted.run_id, submitted.get_status()
"""

from pack.projects.cache import ProjectSettings
from pack.projects.environments import ENV_MANAGERS
from pack.projects.execution import run
from pack.projects.spec import DockerEnv, EntryPoint, EnvKind, Parameter, Project, load_project
from pack.projects.submitted import SubmittedRun

__all__ = [
    "ENV_MANAGERS",
    "DockerEnv",
    "EntryPoint",
    "EnvKind",
    "Parameter",
    "Project",
    "ProjectSettings",
    "SubmittedRun",
    "load_project",
    "run",
]
