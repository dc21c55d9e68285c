"""``pack convert``: turn a saved model into another format (scikit-learn to ONNX)."""

from __future__ import annotations

from pathlib import Path

import click

from pack.cli.models import _trusted_types_config, read_data_file

TARGETS = ("onnx",)


@click.command("convert")
@click.argument("model_uri")
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, help="The format to convert to.")
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path), help="Write the new model here.")
@click.option(
    "--input-example",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Data (JSON or CSV) to verify on; default: the model's saved input example.",
)
@click.option("--rtol", type=float, default=1e-4, show_default=True, help="Relative tolerance.")
@click.option("--atol", type=float, default=1e-5, show_default=True, help="Absolute tolerance.")
@click.option("--opset", type=int, help="Target ONNX opset (default: the converter's latest).")
def convert(
    *,
    model_uri: str,
    target: str,
    output: Path,
    input_example: Path | None,
    rtol: float,
    atol: float,
    opset: int | None,
) -> None:
    """Convert the scikit-learn model at MODEL_URI to ONNX, verified on its input example."""
    from pack.flavors.convert import convert_to_onnx

    example = read_data_file(input_example, None)[0] if input_example is not None else None
    result = convert_to_onnx(
        model_uri,
        output,
        input_example=example,
        rtol=rtol,
        atol=atol,
        target_opset=opset,
        model_config=_trusted_types_config(),
    )
    click.echo(
        f"converted {result.source} to {target} at {result.path}: predictions on {result.rows_checked} "
        f"example rows match (max abs diff {result.max_abs_diff:.3g}; rtol={rtol}, atol={atol})"
    )


COMMANDS = [convert]
