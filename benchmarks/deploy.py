"""Deployments: image build times with Docker vs buildah, and a new version rolled out under load.

1. The same build context (the reference RandomForest) built by the Docker engine and by buildah
   (daemon-less): cold (no layer cache) and for a new model version (dependency layers cached).
2. A client scores in a loop while version 2 replaces version 1: ``pack deployments update -t docker``
   against the usual way with a plain engine (``docker stop`` the old container, ``docker run`` the new
   one on the same port, as with an image from ``mlflow models build-docker``). Failed requests and the
   longest gap without a successful answer are counted for both.

Run: DOCKER_HOST=... CONTAINERS_STORAGE_CONF=... BUILDAH_ISOLATION=chroot \
     python benchmarks/deploy.py --base-image pack-ci/bookworm-python:2 [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import write_section
from devtools.builders import free_port, save_forest, wait_http
from pack.builders.base import ModelSource
from pack.builders.docker import DockerContextBuilder
from pack.builders.engines import build_image, docker_client
from pack.deployments import get_deploy_client


class Loop:
    """One client scoring in a loop (a new connection per request); every answer is timed."""

    def __init__(self, url: str, body: bytes) -> None:
        self.url, self.body = url, body
        self.answers: list[tuple[float, bool]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            request = urllib.request.Request(self.url, data=self.body, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    ok = response.status == 200
            except (urllib.error.URLError, OSError):
                ok = False
                time.sleep(0.01)  # a refused connection answers at once: do not spin
            self.answers.append((time.monotonic(), ok))

    def __enter__(self) -> Loop:
        self.thread.start()
        while len(self.answers) < 20:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(1.0)
        self.stop.set()
        self.thread.join()

    def figures(self) -> dict[str, Any]:
        """Requests, failures, and the longest time between two successful answers."""
        ok_times = [t for t, ok in self.answers if ok]
        gaps = [b - a for a, b in itertools.pairwise(ok_times)]
        return {
            "requests": len(self.answers),
            "failed": sum(not ok for _, ok in self.answers),
            "gap": max(gaps, default=0.0),
        }


def buildah_base(client: Any, base: str, work: Path) -> None:
    """Copy the base image into buildah's storage (once)."""
    if (
        subprocess.run(["buildah", "inspect", "--type", "image", base], check=False, capture_output=True).returncode
        == 0
    ):
        return
    archive = work / "base.tar"
    with archive.open("wb") as out:
        for chunk in client.images.get(base).save(named=True):
            out.write(chunk)
    pulled = subprocess.run(
        ["buildah", "pull", "-q", f"docker-archive:{archive}"], check=True, capture_output=True, text=True
    )
    subprocess.run(["buildah", "tag", pulled.stdout.strip().splitlines()[-1], base], check=True)


def build_times(client: Any, base: str, work: Path, cold: bool) -> dict[str, dict[str, float]]:
    sources = [
        ModelSource.from_directory(save_forest(work / f"v{n}" / "rf", seed=n - 1), version=str(n)) for n in (1, 2)
    ]
    contexts = [DockerContextBuilder(base).build(source, work / f"context-{n}") for n, source in enumerate(sources, 1)]
    times: dict[str, dict[str, float]] = {}
    for builder in ("docker", "buildah"):
        tags = [f"pack-bench/deploy-{builder}:{n}" for n in (1, 2)]
        first = build_image(contexts[0], tags[0], builder=builder, nocache=cold)
        second = build_image(contexts[1], tags[1], builder=builder)
        times[builder] = {"cold" if cold else "warm": first.seconds, "new version": second.seconds}
        for tag in tags:
            if builder == "docker":
                with contextlib.suppress(Exception):
                    client.images.remove(tag, force=True)
            else:
                subprocess.run(["buildah", "rmi", "-f", tag], check=False, capture_output=True)
    return times


def rollout_pack(docker: Any, models: list[Path], base: str, body: bytes) -> dict[str, Any]:
    from pack.builders.settings import BuildSettings
    from pack.deploy.images import MODEL, ImageRequest, ensure_image

    client = get_deploy_client("docker")
    request = ImageRequest(MODEL, base, None, BuildSettings().cache_dir)
    created = client.create_deployment("bench-rf", str(models[0]), config={"base_image": base})
    # Version 2's image is built before the clock starts, as the other way's images are.
    images = [created.details["image"], ensure_image(ModelSource.from_directory(models[1]), request).local]
    try:
        with Loop(f"{created.endpoint}/invocations", body) as loop:
            started = time.monotonic()
            client.update_deployment("bench-rf", str(models[1]))
            seconds = time.monotonic() - started
        return {**loop.figures(), "seconds": seconds}
    finally:
        client.delete_deployment("bench-rf")
        for image in images:
            with contextlib.suppress(Exception):
                docker.images.remove(image, force=True)


def rollout_stop_start(docker: Any, models: list[Path], base: str, body: bytes, work: Path) -> dict[str, Any]:
    tags = []
    for n, model in enumerate(models, 1):
        DockerContextBuilder(base).build(ModelSource.from_directory(model), work / f"plain-{n}")
        tags.append(build_image(work / f"plain-{n}", f"pack-bench/plain:{n}").tag)
    port = free_port()
    env = {"PACK_SERVE_PORT": str(port)}
    old = docker.containers.run(tags[0], detach=True, network_mode="host", environment=env)
    new = None
    try:
        wait_http(f"http://127.0.0.1:{port}/v2/health/ready", old)
        with Loop(f"http://127.0.0.1:{port}/invocations", body) as loop:
            started = time.monotonic()
            old.stop(timeout=30)
            new = docker.containers.run(tags[1], detach=True, network_mode="host", environment=env)
            wait_http(f"http://127.0.0.1:{port}/v2/health/ready", new)
            seconds = time.monotonic() - started
        return {**loop.figures(), "seconds": seconds}
    finally:
        for container in (old, new):
            if container is not None:
                container.remove(force=True)
        for tag in tags:
            with contextlib.suppress(Exception):
                docker.images.remove(tag, force=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-image", required=True)
    parser.add_argument("--quick", action="store_true", help="warm builds only (layers cached)")
    args = parser.parse_args()
    docker = docker_client()
    with tempfile.TemporaryDirectory(prefix="pack-bench-deploy-") as tmp:
        work = Path(tmp)
        have_buildah = shutil.which("buildah") is not None
        if have_buildah:
            buildah_base(docker, args.base_image, work)
        times = build_times(docker, args.base_image, work, cold=not args.quick) if have_buildah else {}
        models = [save_forest(work / f"m{n}" / "RandomForestClassifier", seed=n) for n in (0, 1)]
        rows = json.loads((models[0].parent / "RandomForestClassifier-rows.json").read_text())
        body = json.dumps({"dataframe_split": rows}).encode()
        rolled = {
            "pack deployments update": rollout_pack(docker, models, args.base_image, body),
            "docker stop + docker run": rollout_stop_start(docker, models, args.base_image, body, work),
        }
    driver = docker.info()["Driver"]
    docker.close()
    kind = "warm" if args.quick else "cold"
    body_lines = [
        "## Deployments: image builds (Docker vs buildah) and a new version rolled out under load",
        "",
        f"Same context (the reference RandomForest, wheelhouse included, `--network none`), Docker engine with "
        f"{driver} storage vs buildah (daemon-less, chroot isolation, its own storage); "
        f"{'layers cached from earlier builds (--quick)' if args.quick else 'first build without any layer cache'}, "
        "then a new model version (only the model layer changes).",
        "",
        f"| builder | {kind} build | new model version |",
        "|---|---|---|",
        *(f"| {name} | {t[kind]:.1f} s | {t['new version']:.1f} s |" for name, t in times.items()),
    ]
    if len(times) == 2:
        body_lines += [
            "",
            f"buildah / Docker: {times['buildah'][kind] / times['docker'][kind]:.2f}x ({kind}), "
            f"{times['buildah']['new version'] / times['docker']['new version']:.2f}x (new version).",
        ]
    body_lines += [
        "",
        "Version 1 replaced by version 2 while one client scores in a loop (a new connection per request), "
        "images already built:",
        "",
        "| how | requests | failed | longest time without an answer | time to switch |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {f['requests']} | {f['failed']} | {f['gap']:.2f} s | {f['seconds']:.1f} s |"
            for name, f in rolled.items()
        ),
    ]
    write_section("deploy", "\n".join(body_lines))
    print("\n".join(body_lines))


if __name__ == "__main__":
    main()
