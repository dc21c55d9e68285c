"""Data for the web UI's tests, written through the server's REST API as a client would: an experiment of
runs with params, metric curves, tags, files of every previewable kind, a logged model registered in
versions with stages and aliases, and the hostile values the page must keep inert."""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "/api/2.0/mlflow"
BASE = 1_764_000_000_000
XSS_NAME = '<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2">'
XSS_HTML = (
    b"<html><body><h1 id=inside>report</h1><script>parent.__xss = 3; document.title = 'pwned'</script></body></html>"
)
XSS_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="window.__xss=4">'
    b'<rect width="10" height="10"/></svg>'
)
MLMODEL = b"""artifact_path: model
flavors:
  python_function:
    loader_module: pack.sklearn
    model_path: model.skops
    python_version: 3.11.7
    env:
      virtualenv: python_env.yaml
  sklearn:
    pickled_model: model.skops
    serialization_format: skops
    sklearn_version: 1.5.0
model_uuid: 0123456789abcdef0123456789abcdef
signature:
  inputs: '[{"type": "double", "name": "sepal_length", "required": true},
    {"type": "double", "name": "petal_width", "required": false}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: '[{"name": "threshold", "type": "double", "default": 0.5, "shape": null}]'
utc_time_created: '2026-11-30 10:00:00.000000'
"""


def png(width: int = 8, height: int = 8) -> bytes:
    """A small valid PNG (a gradient)."""
    rows = b"".join(b"\x00" + bytes((x * 30) % 256 for x in range(width * 3)) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@dataclass
class Seeded:
    experiment_id: str
    runs: dict[str, str] = field(default_factory=dict)  # name -> run id
    model: str = "ui-classifier"
    xss_run: str = ""


class Seeder:
    """Writes through ``client`` (an httpx client on the server)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, f"{API}/{path}", **kwargs)
        assert response.status_code == 200, (path, response.text)
        return response.json()

    def put_file(self, run: dict[str, Any], path: str, content: bytes) -> None:
        root = run["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
        answer = self.client.put(f"/api/2.0/mlflow-artifacts/artifacts/{root}/{path}", content=content)
        assert answer.status_code == 200, answer.text

    def run(self, experiment: str, name: str, start: int, **tags: str) -> dict[str, Any]:
        tag_list = [{"key": k, "value": v} for k, v in tags.items()]
        return self.call(
            "POST",
            "runs/create",
            json={"experiment_id": experiment, "run_name": name, "start_time": start, "tags": tag_list},
        )["run"]

    def curve(self, run_id: str, key: str, values: list[float], start: int) -> None:
        for begin in range(0, len(values), 1000):
            metrics = [
                {"key": key, "value": v, "timestamp": start + 1000 * (begin + i), "step": begin + i}
                for i, v in enumerate(values[begin : begin + 1000])
            ]
            self.call("POST", "runs/log-batch", json={"run_id": run_id, "metrics": metrics})

    def seed(
        self,
        name: str = "ui-demo",
        runs: int = 5,
        *,
        model: str = "ui-classifier",
        base: int = BASE,
        hostile: bool = True,
    ) -> Seeded:
        """The demo data (runs from ``base`` ms on); ``hostile`` adds the run, files and tags with attack strings."""
        experiment = self.call("POST", "experiments/create", json={"name": name})["experiment_id"]
        seeded = Seeded(experiment, model=model)
        for i in range(runs):
            run = self.run(experiment, f"run-{i}", base + i * 60_000, team="vision" if i % 2 else "speech")
            run_id = run["info"]["run_id"]
            seeded.runs[f"run-{i}"] = run_id
            params = [
                {"key": "depth", "value": str(4 * (i + 1))},
                {"key": "lr", "value": str(0.1 / (i + 1))},
                {"key": "optimizer", "value": "adam"},
            ]
            self.call("POST", "runs/log-batch", json={"run_id": run_id, "params": params})
            self.curve(run_id, "loss", [1 / (s + 1) + 0.05 * i for s in range(200)], base + i * 60_000)
            self.curve(
                run_id, "acc", [0.5 + 0.4 * (1 - math.exp(-s / (20 + 10 * i))) for s in range(200)], base + i * 60_000
            )
            self.call(
                "POST",
                "runs/update",
                json={"run_id": run_id, "status": "FINISHED", "end_time": base + i * 60_000 + 30_000 + 1000 * i},
            )
        first = seeded.runs["run-0"]
        run = self.call("GET", "runs/get", params={"run_id": first})["run"]
        self.call("POST", "runs/set-tag", json={"run_id": first, "key": "mlflow.source.name", "value": "train.py"})
        self.call(
            "POST",
            "runs/set-tag",
            json={
                "run_id": first,
                "key": "mlflow.source.git.commit",
                "value": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
            },
        )
        self.call("POST", "runs/set-tag", json={"run_id": first, "key": "mlflow.source.git.branch", "value": "main"})
        self.call("POST", "runs/set-tag", json={"run_id": first, "key": "mlflow.source.git.dirty", "value": "true"})
        child = self.run(experiment, "child-of-run-0", base + 5_000, **{"mlflow.parentRunId": first})
        seeded.runs["child-of-run-0"] = child["info"]["run_id"]
        self.call(
            "POST",
            "runs/update",
            json={"run_id": child["info"]["run_id"], "status": "FINISHED", "end_time": base + 9_000},
        )
        for path, content in (
            ("notes.txt", b"first line\nsecond line\n"),
            ("config/params.json", b'{"depth": 4, "layers": [1, 2, 3]}'),
            ("config/settings.yaml", b"depth: 4\nname: demo\n"),
            ("data/sample.csv", b'city,population\n"Paris, FR",2100000\nLyon,516000\n'),
            ("plots/curve.png", png()),
            ("model/MLmodel", MLMODEL),
            ("model/requirements.txt", b"scikit-learn==1.5.0\nskops==0.10\n"),
            ("model/model.skops", b"not really a model"),
        ):
            self.put_file(run, path, content)
        self.call(
            "POST", "registered-models/create", json={"name": seeded.model, "description": "Classifies iris flowers."}
        )
        for _ in range(2):
            self.call(
                "POST",
                "model-versions/create",
                json={"name": seeded.model, "source": f"runs:/{first}/model", "run_id": first},
            )
        self.call(
            "POST", "model-versions/transition-stage", json={"name": seeded.model, "version": "1", "stage": "Staging"}
        )
        self.call("POST", "registered-models/alias", json={"name": seeded.model, "alias": "champion", "version": "1"})
        if not hostile:
            return seeded
        xss = self.run(experiment, XSS_NAME, base + 9 * 60_000, **{"note": XSS_NAME, "mlflow.note.content": XSS_NAME})
        seeded.xss_run = xss["info"]["run_id"]
        self.call(
            "POST", "runs/log-batch", json={"run_id": seeded.xss_run, "params": [{"key": "evil", "value": XSS_NAME}]}
        )
        self.put_file(xss, "report.html", XSS_HTML)
        self.put_file(xss, "drawing.svg", XSS_SVG)
        self.put_file(xss, "evil.txt", XSS_NAME.encode())
        self.call(
            "POST",
            "experiments/set-experiment-tag",
            json={"experiment_id": experiment, "key": "owner", "value": XSS_NAME},
        )
        self.call("POST", "registered-models/set-tag", json={"name": seeded.model, "key": "note", "value": XSS_NAME})
        self.call(
            "PATCH", "model-versions/update", json={"name": seeded.model, "version": "2", "description": XSS_NAME}
        )
        self.call(
            "POST",
            "model-versions/set-tag",
            json={"name": seeded.model, "version": "2", "key": XSS_NAME, "value": XSS_NAME},
        )
        return seeded
