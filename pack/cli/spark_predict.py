"""``pack predict --engine spark``: score files too big for one process, with Spark.

The options are added to ``pack predict`` by ``spark_options``; ``run_on_spark`` takes over the
command when ``--engine spark`` is given. pyspark is imported only then.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pack.errors import InvalidInput

ENGINES = ("local", "spark")
INPUT_FORMATS = ("parquet", "csv", "json")  # pack.spark.batch.INPUT_FORMATS, without importing pyspark
_F = TypeVar("_F", bound=Callable[..., Any])


def spark_options(command: _F) -> _F:
    """Add ``--engine``, ``--master``, ``--input-format``, ``--result-column`` and ``--accelerate``."""
    options = [
        click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default="local",
            show_default=True,
            help="local: this process; spark: Spark reads INPUT (a file or a directory of them) "
            "and writes Parquet to -o, for data larger than memory.",
        ),
        click.option("--master", default=None, help="Spark master URL (--engine spark; default local[*])."),
        click.option(
            "--input-format",
            type=click.Choice(INPUT_FORMATS),
            default=None,
            help="Input format for --engine spark (default: by file suffix).",
        ),
        click.option("--result-column", default=None, help="Name of the prediction column (--engine spark)."),
        click.option(
            "--accelerate",
            is_flag=True,
            help="--engine spark: compile scikit-learn tree ensembles once (native code, else onnxruntime), "
            "verified on the input example, and score with that (else as saved, saying why).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def run_on_spark(
    model_uri: str,
    input_path: Path,
    output_path: Path | None,
    content_type: str | None,
    model_config: dict[str, Any],
    *,
    engine: str,
    master: str | None,
    input_format: str | None,
    result_column: str | None,
    accelerate: bool,
    safe_only: bool = False,
) -> bool:
    """Run the command on Spark if ``--engine spark`` was given; False leaves it to the local engine.

    Raises:
        InvalidInput: Spark-only options without ``--engine spark``, or options Spark does not take.
    """
    if engine != "spark":
        given = [name for name, value in (("--master", master), ("--input-format", input_format)) if value]
        given += [name for name, value in (("--result-column", result_column), ("--accelerate", accelerate)) if value]
        if given:
            raise InvalidInput(f"{', '.join(given)}: only with --engine spark")
        return False
    if output_path is None:
        raise InvalidInput("--engine spark writes Parquet: pass --output-path DIR")
    if content_type is not None:
        raise InvalidInput("--content-type is for the local engine; use --input-format with --engine spark")
    try:
        from pack.spark.batch import check_paths, detect_format, local_session, score_dataset
    except ModuleNotFoundError as exc:
        if exc.name not in ("pyspark", "py4j"):
            raise
        raise InvalidInput("--engine spark needs pyspark: pip install 'pack[spark]'") from None
    check_paths(input_path, output_path)
    detect_format(input_path, input_format)
    # pyspark's own notice about pandas 3, repeated per call site: nothing the user can act on here.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with console.status("starting Spark"):
        spark = local_session(master or "local[*]")
    try:
        with Progress(
            TextColumn("scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("tasks"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("scoring", total=None)
            result = score_dataset(
                spark,
                model_uri,
                input_path,
                output_path,
                input_format=input_format,
                result_column=result_column or "prediction",
                model_config=model_config,
                accelerate=accelerate,
                safe_only=safe_only,
                on_progress=lambda p: bar.update(task, completed=p.done, total=p.total),
            )
    finally:
        spark.stop()
    if result.acceleration is not None:
        click.echo(f"accelerate: {result.acceleration}", err=True)
    version = f" (models:/{result.model.name}/{result.model.version})" if result.model.version else ""
    click.echo(
        f"scored {result.rows:,} rows in {result.seconds:.1f} s ({result.rows_per_second:,.0f} rows/s) "
        f"with {model_uri}{version} -> {result.output}"
    )
    return True


__all__ = ["ENGINES", "run_on_spark", "spark_options"]
