"""Model images: size and build time, cold and for a new model version, pack vs MLflow's generate-dockerfile.

Both images are built by the same engine on the same base (a Debian bookworm with python3; MLflow's
Dockerfile gets pip and ``python`` added on top, as its ``python:<version>-slim`` default has them).
pack builds with no network (``--network none``); MLflow's build downloads from Debian and PyPI.

Run: DOCKER_HOST=... python benchmarks/images.py --base-image pack-ci/bookworm-python:2
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import docker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402
from devtools.builders import save_forest  # noqa: E402
from devtools.mlflow_peer import MLFLOW_VERSION, mlflow_python  # noqa: E402
from pack.builders.base import ModelSource  # noqa: E402
from pack.builders.docker import DockerContextBuilder  # noqa: E402
from pack.builders.engines import build_image, docker_client  # noqa: E402

HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
MLFLOW_BASE = """FROM {base}
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip python-is-python3 \\
 && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED && rm -rf /var/lib/apt/lists/*
"""


def build_pack(
    model: Path, version: str, tag: str, base: str, nocache: bool, work: Path, **options: bool
) -> dict[str, Any]:
    started = time.monotonic()
    source = ModelSource.from_directory(model, version=version)
    DockerContextBuilder(base, **options).build(source, work / tag.replace(":", "-"))
    context = time.monotonic() - started
    built = build_image(work / tag.replace(":", "-"), tag, nocache=nocache)
    return {"seconds": context + built.seconds, "size": built.size_bytes}


def build_pack_upgrade(tag: str, work: Path) -> dict[str, Any]:
    """The first image again with a newer pack wheel (this source, its version bumped): how long
    it takes, and whether the dependency layer is reused."""
    source = work / "pack-next"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info"))
    version_file = source / "pack" / "_version.py"
    version_file.write_text(re.sub(r'"([^"]+)"', r'"\1.post1"', version_file.read_text(), count=1))
    wheels = work / "pack-next-wheel"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)]
    subprocess.run(command, check=True)
    context = work / tag.replace(":", "-")
    shutil.copytree(work / "pack-bench/rf-1", context)
    for old in (context / "dist").glob("*.whl"):
        old.unlink()
    shutil.copy(next(wheels.glob("pack-*.whl")), context / "dist")
    started = time.monotonic()
    built = build_image(context, tag)
    return {"seconds": time.monotonic() - started, "size": built.size_bytes}


def layers(client: Any, tag: str) -> list[str]:
    return list(client.images.get(tag).attrs["RootFS"]["Layers"])


def build_mlflow(model: Path, tag: str, base: str, nocache: bool, work: Path) -> dict[str, Any]:
    out = work / f"mlflow-{tag.replace(':', '-')}"
    mlflow = mlflow_python().with_name("mlflow")
    started = time.monotonic()
    subprocess.run(
        [str(mlflow), "models", "generate-dockerfile", "-m", str(model), "-d", str(out), "--env-manager", "local"],
        check=True,
        capture_output=True,
    )
    dockerfile = out / "Dockerfile"
    dockerfile.write_text(re.sub(r"(?m)^FROM .*$", f"FROM {base}", dockerfile.read_text(), count=1))
    built = build_image(out, tag, network_mode="host", nocache=nocache)
    return {"seconds": time.monotonic() - started, "size": built.size_bytes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-image", required=True)
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()
    client = docker_client()
    base_size = client.images.get(args.base_image).attrs["Size"]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="pack-bench-images-") as tmp:
        work = Path(tmp)
        v1 = save_forest(work / "v1" / "RandomForestClassifier", seed=0)
        v2 = save_forest(work / "v2" / "RandomForestClassifier", seed=1)
        results["pack cold"] = build_pack(v1, "1", "pack-bench/rf:1", args.base_image, True, work)
        results["pack new version"] = build_pack(v2, "2", "pack-bench/rf:2", args.base_image, False, work)
        results["pack upgrade (new pack wheel)"] = build_pack_upgrade("pack-bench/rf:1-next", work)
        results["pack cold, --no-prune"] = build_pack(
            v1, "1", "pack-bench/rf:1-full", args.base_image, True, work, prune=False
        )
        results["pack cold, --bytecode-only"] = build_pack(
            v1, "1", "pack-bench/rf:1-bytecode", args.base_image, True, work, bytecode_only=True
        )
        before, after = layers(client, "pack-bench/rf:1"), layers(client, "pack-bench/rf:1-next")
        shared = sum(1 for a, b in zip(before, after, strict=False) if a == b)
        reused = len(before) == len(after) and shared == len(before) - 2  # only pack's and the model's layers
        if not args.skip_mlflow:
            mlflow_base = "pack-bench/mlflow-base:1"
            base_context = work / "mlflow-base"
            base_context.mkdir()
            (base_context / "Dockerfile").write_text(MLFLOW_BASE.format(base=args.base_image))
            # HTTPS from a container here needs the host's CA bundle (pack's builds need no network at all).
            shutil.copy(HOST_CA_BUNDLE, base_context / "ca-certificates.crt")
            build_image(base_context, mlflow_base, network_mode="host")
            base_size_mlflow = client.images.get(mlflow_base).attrs["Size"]
            results["MLflow cold"] = build_mlflow(v1, "pack-bench/mlflow-rf:1", mlflow_base, True, work)
            results["MLflow new version"] = build_mlflow(v2, "pack-bench/mlflow-rf:2", mlflow_base, False, work)
            results["MLflow cold"]["base"] = results["MLflow new version"]["base"] = base_size_mlflow
        tags = ("pack-bench/rf:1", "pack-bench/rf:2", "pack-bench/rf:1-next", "pack-bench/rf:1-full")
        tags += ("pack-bench/rf:1-bytecode", "pack-bench/mlflow-rf:1")
        for tag in (*tags, "pack-bench/mlflow-rf:2"):
            with contextlib.suppress(docker.errors.ImageNotFound):
                client.images.remove(tag, force=True)
    rows = []
    for name, figures in results.items():
        added = figures["size"] - figures.get("base", base_size)
        rows.append(f"| {name} | {figures['size'] / 1e6:.0f} MB | {added / 1e6:.0f} MB | {figures['seconds']:.1f} s |")
    body = [
        "## Images: RandomForest (50 trees, depth 8, 10 features), pack vs MLflow "
        f"{MLFLOW_VERSION} generate-dockerfile",
        "",
        f"Same engine ({client.info()['Driver']} storage), same Debian bookworm base ({base_size / 1e6:.0f} MB; "
        "MLflow's gets pip and `python` on top). pack builds with `--network none` from its wheelhouse (time "
        "includes writing the context from a warm wheel cache); MLflow downloads from Debian and PyPI.",
        "",
        "| build | image size | added to its base | time |",
        "|---|---|---|---|",
        *rows,
    ]
    if "MLflow cold" in results:
        pack, peer = results["pack cold"], results["MLflow cold"]
        body += [
            "",
            f"pack's image is {peer['size'] / pack['size']:.1f}x smaller; cold build "
            f"{peer['seconds'] / pack['seconds']:.1f}x faster; new model version "
            f"{results['MLflow new version']['seconds'] / results['pack new version']['seconds']:.0f}x faster.",
        ]
    size, rebuild = results["pack cold"]["size"], results["pack new version"]["seconds"]
    compact = results["pack cold, --bytecode-only"]["size"]
    body += [
        "",
        "| goal (issue 17) | measured | |",
        "|---|---|---|",
        f"| image <= 400 MB | {size / 1e6:.0f} MB (pruned; {results['pack cold, --no-prune']['size'] / 1e6:.0f} MB "
        f"unpruned) | {'met' if size <= 400e6 else 'not met'} |",
        f"| image <= 400 MB with --bytecode-only (opt-in) | {compact / 1e6:.0f} MB "
        f"| {'met' if compact <= 400e6 else 'not met'} |",
        f"| new model version rebuilt in <= 3 s | {rebuild:.1f} s | {'met' if rebuild <= 3 else 'not met'} |",
        f"| a pack upgrade reuses the dependency layer | {shared} of {len(before)} layers shared "
        f"| {'met' if reused else 'not met'} |",
    ]
    write_section("images", "\n".join(body))
    print("\n".join(body))


if __name__ == "__main__":
    main()
