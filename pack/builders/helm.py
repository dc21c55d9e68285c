"""A Helm chart for one model, made from the base chart ``charts/pack-model`` (shipped inside the wheel).

The chart is the base chart with ``Chart.yaml`` renamed after the model (``appVersion`` = the model's
version) and the ``model`` and ``image`` blocks of ``values.yaml`` filled in; every other value, and
every comment, stays as the base chart has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pack._fs import atomic_dir
from pack.builders.base import ModelSource, dns_name
from pack.builders.output import copy_tree, dump_yaml, normalise_tree, write_file
from pack.builders.references import parse_image_reference
from pack.errors import BuildError

BASE_CHART = "pack-model"


def base_chart_dir() -> Path:
    """The base chart: inside the installed wheel (``pack/_charts``), else in the source tree.

    Raises:
        BuildError: neither is there (a broken installation).
    """
    packaged = Path(str(resources.files("pack"))) / "_charts" / BASE_CHART
    source = Path(__file__).resolve().parents[2] / "charts" / BASE_CHART
    for candidate in (packaged, source):
        if (candidate / "Chart.yaml").is_file():
            return candidate
    raise BuildError(f"the base chart {BASE_CHART} is missing from this pack installation")


def parse_image(image: str) -> dict[str, str]:
    """``repository[:tag][@sha256:digest]`` as the chart's ``image`` values.

    Raises:
        InvalidInput: not an image reference.
    """
    reference = parse_image_reference(image, what="--image")
    return {"repository": reference.repository, "tag": reference.tag, "digest": reference.digest}


def replace_top_level_block(text: str, key: str, value: Any) -> str:
    """Replace the top-level ``key:`` block of a YAML document, keeping every other line as it is.

    Raises:
        BuildError: the document has no such top-level key.
    """
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), None)
    if start is None:
        raise BuildError(f"the base chart's values.yaml has no top-level {key!r}")
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # keep the blank lines that separate blocks
    block = yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False)
    return "".join([*lines[:start], block, *lines[end:]])


@dataclass(frozen=True)
class ChartOptions:
    """``pack build-chart`` flags."""

    image: str
    chart_version: str | None = None


class HelmChartBuilder:
    """``pack build-chart``: the chart directory itself is the output directory."""

    def __init__(self, options: ChartOptions) -> None:
        self.options = options

    def build(self, source: ModelSource, output: Path) -> Path:
        """Write the chart for ``source`` into ``output`` (new or empty); return ``output``."""
        image = parse_image(self.options.image)
        base = base_chart_dir()
        chart = yaml.safe_load((base / "Chart.yaml").read_text(encoding="utf-8"))
        chart["name"] = dns_name(source.name, max_length=53)
        chart["appVersion"] = source.version
        chart["description"] = f"Model {source.name} version {source.version}, served by pack."
        if self.options.chart_version:
            chart["version"] = self.options.chart_version
        values = (base / "values.yaml").read_text(encoding="utf-8")
        model = {"name": source.name, "version": source.version, "uri": source.source_uri}
        values = replace_top_level_block(values, "model", {**model, "checksum": source.checksum})
        values = replace_top_level_block(values, "image", {"pullPolicy": "IfNotPresent", **image})
        with atomic_dir(output) as tmp:
            copy_tree(base, tmp)
            write_file(tmp / "Chart.yaml", dump_yaml(chart))
            write_file(tmp / "values.yaml", values)
            normalise_tree(tmp)
        return output


__all__ = [
    "BASE_CHART",
    "ChartOptions",
    "HelmChartBuilder",
    "base_chart_dir",
    "parse_image",
    "replace_top_level_block",
]
