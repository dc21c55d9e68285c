"""``pack convert``: turn a saved model into another format (scikit-learn to ONNX)."""

from __future__ import annotations

from pathlib import Path

import click

from pack.cli.load_options import load_options, trusted_types_option
from pack.cli.models import read_data_file
from pack.cli.params import EXISTING_FILE
from pack.errors import InvalidInput

TARGETS = ("onnx",)


@click.command("convert")
@click.argument("model_uri")
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, help="The format to convert to.")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the new model here.")
@click.option(
    "--register", "register_as", metavar="NAME", help="Register the converted model as a new version of NAME."
)
@click.option(
    "--input-example",
    type=EXISTING_FILE,
    help="Data (JSON, CSV, Parquet, .npy or .npz) to verify on; default: the model's saved input example.",
)
@click.option("--rtol", type=float, default=1e-4, show_default=True, help="Relative tolerance.")
@click.option("--atol", type=float, default=1e-5, show_default=True, help="Absolute tolerance.")
@click.option("--opset", type=int, help="Target ONNX opset (default: the converter's latest).")
@trusted_types_option
def convert(
    *,
    model_uri: str,
    target: str,
    output: Path | None,
    register_as: str | None,
    input_example: Path | None,
    rtol: float,
    atol: float,
    opset: int | None,
    trusted_types: str,
) -> None:
    """Convert the scikit-learn model at MODEL_URI to ONNX, verified on its input example.

    Writes the new model to --output, registers it as a new version with --register NAME, or both.
    """
    import tempfile

    from pack.flavors.convert import convert_to_onnx
    from pack.uris import resolve

    if output is None and register_as is None:
        raise InvalidInput("give --output DIR, --register NAME, or both")
    example = read_data_file(input_example, None)[0] if input_example is not None else None
    resolved = resolve(model_uri)  # models:/name/Production -> the exact version, once
    exact = resolved.exact_uri
    with tempfile.TemporaryDirectory(prefix="pack-convert-") as scratch:
        result = convert_to_onnx(
            resolved.path,
            output if output is not None else Path(scratch) / "model",
            input_example=example,
            rtol=rtol,
            atol=atol,
            target_opset=opset,
            model_config=load_options(trusted_types),
            source=exact,
        )
        where = f" at {result.path}" if output is not None else ""
        click.echo(
            f"converted {model_uri} to {target}{where}: predictions on {result.rows_checked} "
            f"example rows match (max abs diff {result.max_abs_diff:.3g}; rtol={rtol}, atol={atol})"
        )
        if register_as is not None:
            from pack.cli.store_options import open_services

            version = open_services().registry.register_model(
                str(result.path),
                register_as,
                tags={"pack.converted_from": exact, "pack.format": target},
                description=f"{target} conversion of {exact}",
                source=exact,
            )
            click.echo(f"registered as {version.name} version {version.version} (tagged pack.converted_from={exact})")


COMMANDS = [convert]
