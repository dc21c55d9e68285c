"""``pack build-docker``, ``pack build-k8s``, ``pack build-chart`` and ``pack build-sagemaker``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pack.cli.mlflow_compat import env_manager_options
from pack.errors import InvalidInput

if TYPE_CHECKING:
    from pack.builders.base import ModelSource, Progress


model_option = click.option(
    "--model-uri",
    "-m",
    required=True,
    help="Model path or URI (models:/name/version|Stage|latest|@alias, runs:/...).",
)
safe_only_option = click.option(
    "--safe-only",
    is_flag=True,
    help="Bake PACK_SAFE_ONLY=1 into the image: it refuses pickles, custom Python models and model code.",
)
no_prune_option = click.option(
    "--no-prune",
    is_flag=True,
    help="Keep the dependencies as pip installed them (test suites, headers, stubs, debug symbols).",
)
output_option = click.option(
    "--output",
    "-o",
    "output",
    required=True,
    type=click.Path(path_type=Path),
    help="Write here (a new or empty directory).",
)


def resolve_source(model_uri: str) -> ModelSource:
    """Resolve ``model_uri`` to a local model directory and say which model (and version) it is."""
    from pack.builders.base import ModelSource
    from pack.uris import resolve

    return ModelSource.from_resolved(resolve(model_uri))


class _BuildDisplay:
    """A rich progress bar over the build steps, with the build log printed above it."""

    def __init__(self, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

        self.quiet = quiet
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True, highlight=False),
            transient=True,
        )
        self.task = self.progress.add_task("preparing", total=None)
        self.live = False

    def __enter__(self) -> _BuildDisplay:
        self.live = self.progress.console.is_terminal  # no live display (nor its blank line) in pipes
        if self.live:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End the live display (idempotent)."""
        if self.live:
            self.progress.stop()
            self.live = False

    def __call__(self, event: Progress) -> None:
        if event.step is not None:
            description = event.message.split(":", 1)[-1].strip()[:50]
            self.progress.update(self.task, completed=event.step - 1, total=event.total, description=description)
        if not self.quiet:  # soft_wrap: long log lines stay whole (a pipe or CI log is not 80 columns wide)
            self.progress.console.print(event.message, markup=False, style="dim", soft_wrap=True)


def _cache_dir() -> Path:
    from pack.builders.settings import BuildSettings

    return BuildSettings().cache_dir


@click.command("build-docker")
@model_option
@click.option("--name", "-n", "image_name", help="Image name[:tag] (required unless --context-only).")
@click.option("--base-image", help="Base image (default: python:<the model's major.minor>-slim).")
@click.option(
    "--context-only",
    type=click.Path(path_type=Path),
    help="Only write the build context (Dockerfile, wheelhouse, model) to this new directory.",
)
@click.option("--builder", type=click.Choice(["docker", "buildah"]), default="docker", show_default=True)
@click.option("--network", default="none", show_default=True, help="Network of the build's RUN steps.")
@click.option("--no-cache", is_flag=True, help="Build every layer anew.")
@click.option("--quiet", "-q", is_flag=True, help="Show the progress bar only, not the build log.")
@click.option(
    "--push", is_flag=True, help="Push the image to the registry its name names (credentials: the Docker config)."
)
@click.option(
    "--accelerate",
    is_flag=True,
    help="Serve with pack serve --accelerate (tree ensembles compiled at load; adds onnxruntime to the image).",
)
@safe_only_option
@no_prune_option
@click.option(
    "--bytecode-only",
    is_flag=True,
    help="Ship the dependencies' bytecode without their source (smaller; tracebacks show no source lines, "
    "inspect.getsource fails on library code).",
)
@env_manager_options(
    ("local", "virtualenv"),
    "the image installs the model's pinned requirements into its own virtualenv (--env-manager virtualenv)",
)
def build_docker(
    *,
    model_uri: str,
    image_name: str | None,
    base_image: str | None,
    context_only: Path | None,
    builder: str,
    network: str,
    no_cache: bool,
    quiet: bool,
    safe_only: bool,
    push: bool,
    accelerate: bool,
    no_prune: bool,
    bytecode_only: bool,
) -> None:
    """Build a Docker image that serves the model on port 8080 (pack serve, model baked in)."""
    import tempfile

    from pack.builders.docker import DockerContextBuilder
    from pack.builders.engines import build_image, check_builder
    from pack.builders.references import parse_image_reference

    if context_only is None and not image_name:
        raise InvalidInput("--name NAME[:TAG] is required (or write the context only with --context-only DIR)")
    if image_name:  # checked before the wheelhouse is filled, not by the engine minutes later
        parse_image_reference(image_name, what="--name", allow_digest=False)
    if base_image:
        parse_image_reference(base_image, what="--base-image")
    if push and context_only is not None:
        raise InvalidInput("--push needs an image: drop --context-only")
    source = resolve_source(model_uri)
    if context_only is None:
        check_builder(builder)  # fail fast, before the wheelhouse is filled
    with _BuildDisplay(quiet) as display:
        contexts = DockerContextBuilder(
            base_image,
            _cache_dir(),
            display,
            accelerate=accelerate,
            safe_only=safe_only,
            prune=not no_prune,
            bytecode_only=bytecode_only,
        )
        if context_only is not None:
            written = contexts.write(source, context_only)
            display.stop()
            click.echo(
                f"wrote the build context of {source.name} {source.version} to {context_only} "
                f"({len(written.wheels)} wheels, base {written.base_image})"
            )
            click.echo(f"build it with: docker build --network none -t IMAGE {context_only}")
            return
        with tempfile.TemporaryDirectory(prefix="pack-context-") as tmp:
            context = contexts.build(source, Path(tmp) / "context")
            built = build_image(
                context,
                str(image_name),
                builder=builder,
                network_mode=network,
                nocache=no_cache,
                progress=display,
            )
        size = f", {built.size_bytes / 1e6:.0f} MB" if built.size_bytes else ""
        display.stop()
        click.echo(f"built {built.tag} ({built.id[:19]}{size}) in {built.seconds:.1f} s")
        if push:
            from pack.builders.push import push_image

            pushed = push_image(built.tag, builder=builder, progress=display)
            click.echo(f"pushed {pushed.pinned}")


@click.command("build-k8s")
@model_option
@click.option("--image", required=True, help="The model's image (from pack build-docker).")
@output_option
@click.option("--namespace", help="Namespace for the objects (default: none, kubectl's).")
@click.option("--replicas", type=int, default=2, show_default=True)
@click.option("--min-replicas", type=int, help="Autoscaling floor (default: --replicas).")
@click.option("--max-replicas", type=int, default=5, show_default=True)
@click.option(
    "--target-cpu",
    "target_cpu_percent",
    type=int,
    default=70,
    show_default=True,
    help="Autoscaling CPU target, percent.",
)
@click.option("--cpu", "cpu_request", default="500m", show_default=True, help="CPU request.")
@click.option("--memory", "memory_request", default="512Mi", show_default=True, help="Memory request.")
@click.option("--cpu-limit", default="2", show_default=True)
@click.option("--memory-limit", default="2Gi", show_default=True)
@click.option("--service-port", type=int, default=80, show_default=True)
@click.option("--startup-seconds", type=int, default=600, show_default=True, help="Time allowed for model load.")
@click.option(
    "--drain-timeout",
    "drain_seconds",
    type=int,
    default=30,
    show_default=True,
    help="Seconds the server drains on SIGTERM; the pod's grace period is 15 s longer.",
)
@click.option(
    "--auth-secret",
    help="A Secret (key 'token') whose value the server requires as a bearer token (PACK_SERVE_AUTH_TOKEN).",
)
def build_k8s(model_uri: str, image: str, output: Path, **flags: Any) -> None:
    """Write Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget YAML.

    An empty --cpu-limit or --memory-limit leaves that limit out.
    """
    from pack.builders.kubernetes import FILES, KubernetesBuilder, KubernetesOptions

    for limit in ("cpu_limit", "memory_limit"):
        flags[limit] = flags[limit] or None
    options = KubernetesOptions(image=image, **flags)
    options.check()  # every flag before any work
    source = resolve_source(model_uri)
    KubernetesBuilder(options).build(source, output)
    click.echo(f"wrote {', '.join(FILES)} for {source.name} {source.version} to {output}")


@click.command("build-chart")
@model_option
@click.option("--image", required=True, help="The model's image (from pack build-docker).")
@output_option
@click.option("--chart-version", help="The chart's version (default: the base chart's).")
def build_chart(model_uri: str, image: str, output: Path, chart_version: str | None) -> None:
    """Write a Helm chart for the model (helm install NAME DIR)."""
    from pack.builders.helm import ChartOptions, HelmChartBuilder, parse_image

    parse_image(image)  # before any work
    source = resolve_source(model_uri)
    HelmChartBuilder(ChartOptions(image=image, chart_version=chart_version)).build(source, output)
    click.echo(f"wrote the chart of {source.name} {source.version} to {output}")


@click.command("build-sagemaker")
@model_option
@output_option
@click.option("--base-image", help="Base image (default: python:<the model's major.minor>-slim).")
@click.option("--image-uri", help="The ECR image URI for CreateModel (default: a placeholder).")
@click.option("--model-data-url", help="The S3 URL of model.tar.gz (default: a placeholder).")
@click.option("--execution-role-arn", help="The SageMaker execution role (default: a placeholder).")
@click.option("--instance-type", default="ml.m5.large", show_default=True)
@click.option("--instance-count", type=int, default=1, show_default=True)
@safe_only_option
@no_prune_option
def build_sagemaker(
    *,
    model_uri: str,
    output: Path,
    base_image: str | None,
    image_uri: str | None,
    model_data_url: str | None,
    execution_role_arn: str | None,
    instance_type: str,
    instance_count: int,
    safe_only: bool,
    no_prune: bool,
) -> None:
    """Write model.tar.gz, the serving image's build context and the SageMaker API requests."""
    from pack.builders.references import parse_image_reference
    from pack.builders.sagemaker import (
        IMAGE_PLACEHOLDER,
        MODEL_DATA_PLACEHOLDER,
        ROLE_PLACEHOLDER,
        SageMakerBuilder,
        SageMakerOptions,
    )

    for flag, reference in (("--image-uri", image_uri), ("--base-image", base_image)):
        if reference:
            parse_image_reference(reference, what=flag)
    options = SageMakerOptions(
        base_image=base_image,
        image_uri=image_uri or IMAGE_PLACEHOLDER,
        model_data_url=model_data_url or MODEL_DATA_PLACEHOLDER,
        execution_role_arn=execution_role_arn or ROLE_PLACEHOLDER,
        instance_type=instance_type,
        instance_count=instance_count,
        safe_only=safe_only,
        prune=not no_prune,
    )
    source = resolve_source(model_uri)
    with _BuildDisplay(quiet=True) as display:
        SageMakerBuilder(options, _cache_dir(), display).build(source, output)
    click.echo(f"wrote model.tar.gz, image/ and sagemaker.json for {source.name} {source.version} to {output}")
    click.echo(f"build the image with: docker build --network none -t IMAGE {output / 'image'}")


COMMANDS = [build_docker, build_k8s, build_chart, build_sagemaker]
