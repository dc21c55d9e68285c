"""Helpers for the builders' tests and benchmarks: reference model, file trees, containers over HTTP."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def save_forest(path: Path, seed: int) -> Path:
    """Train and save the reference RandomForest (50 trees, depth 8, 10 features)."""
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    import pack

    features, labels = make_classification(n_samples=1000, n_features=10, random_state=0)
    frame = pd.DataFrame(features, columns=[f"f{i}" for i in range(10)])
    model = RandomForestClassifier(n_estimators=50, max_depth=8, random_state=seed).fit(frame, labels)
    pack.save_model(model, path, input_example=frame.head(5))
    frame.head(25).to_json(path.parent / f"{path.name}-rows.json", orient="split", index=False)
    return path


def text_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Every file under ``root`` that decodes as UTF-8, with its text."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            yield path, path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue


def assert_no_host_paths(root: Path, *paths: Path) -> None:
    """No file under ``root`` (nor any file name) mentions the building machine's paths."""
    needles = {str(p) for p in paths} | {str(Path.home()), str(Path(__file__).resolve().parents[1])}
    for path, text in text_files(root):
        for needle in needles:
            assert needle not in text, f"{path.relative_to(root)} names the host path {needle}"
    for path in root.rglob("*"):
        assert not any(needle in str(path.relative_to(root)) for needle in needles)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """``{relative path: content}`` of every file under ``root``."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def pack_predict(model: Path, rows: Path) -> Any:
    """What ``pack predict`` answers for ``rows`` (fails with its stderr if it fails)."""
    from devtools.cli import run_pack

    result = run_pack("predict", "-m", str(model), "-i", str(rows))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, container: Any, timeout: float = 180) -> None:
    """Wait until ``url`` answers 200; fail with the container's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        if container.status == "exited":
            raise AssertionError(f"container exited:\n{container.logs().decode()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} never answered 200:\n{container.logs().decode()[-3000:]}")


def post_json(url: str, body: Any) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
