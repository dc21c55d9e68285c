"""Model registry at scale: pack vs MLflow's SQLAlchemy store, same SQLite file system, same run.

Operations (the issue's): one model with 10,000 versions (registering the same small model directory);
set an alias; 1,000 resolutions of ``models:/m@champion`` and of ``models:/m/Production``;
``search_model_versions("name='m'")`` first page; listing every version through page tokens. Then pack
alone at 100,000 versions for the resolution goal (< 2 ms).

MLflow runs in its own virtualenv (``devtools/mlflow_peer.py``) as a subprocess script; pack runs
in-process. Resolution means: pack ``Registry.resolve(ModelRef)`` (the metadata step of
``models:/`` URIs) vs MLflow ``get_model_version_by_alias`` / ``get_latest_versions(name, [stage])``
(what MLflow's ``models:/`` resolution calls). Registering differs in work: pack copies the model's
files into the registry, hashes and fsyncs them; MLflow records the source path only.

Run: python benchmarks/registry.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import write_section
from devtools.mlflow_peer import MLFLOW_VERSION, run_mlflow

MLFLOW_SCRIPT = textwrap.dedent(
    """
    import json, statistics, sys, time, warnings
    warnings.filterwarnings("ignore")
    import logging
    logging.disable(logging.WARNING)
    from mlflow import MlflowClient
    cfg = json.load(open("config.json"))
    n, resolutions, source = cfg["versions"], cfg["resolutions"], cfg["source"]
    client = MlflowClient()
    client.create_registered_model("m")
    create = []
    for _ in range(n):
        t = time.perf_counter()
        client.create_model_version("m", source)
        create.append(time.perf_counter() - t)
    production = n // 2
    t = time.perf_counter()
    client.transition_model_version_stage("m", production, "Production")
    transition = time.perf_counter() - t
    alias = []
    for i in range(cfg["alias_sets"]):
        t = time.perf_counter()
        client.set_registered_model_alias("m", "champion", n - (i % 2))
        alias.append(time.perf_counter() - t)
    by_alias, by_stage = [], []
    for _ in range(resolutions):
        t = time.perf_counter()
        v = client.get_model_version_by_alias("m", "champion")
        by_alias.append(time.perf_counter() - t)
    assert int(v.version) in (n, n - 1)
    for _ in range(resolutions):
        t = time.perf_counter()
        v = max(client.get_latest_versions("m", ["Production"]), key=lambda mv: int(mv.version))
        by_stage.append(time.perf_counter() - t)
    assert int(v.version) == production
    first_page = []
    for _ in range(cfg["page_repeats"]):
        t = time.perf_counter()
        page = client.search_model_versions("name='m'", max_results=cfg["page_size"])
        first_page.append(time.perf_counter() - t)
    assert len(page) == cfg["page_size"]
    list_all = []
    for _ in range(cfg["list_repeats"]):
        t = time.perf_counter()
        seen, token = 0, None
        while True:
            page = client.search_model_versions("name='m'", page_token=token)
            seen += len(page)
            token = page.token
            if not token:
                break
        list_all.append(time.perf_counter() - t)
        assert seen == n, seen
    json.dump({"create": create, "transition": [transition], "alias": alias, "by_alias": by_alias,
               "by_stage": by_stage, "first_page": first_page, "list_all": list_all}, open("mlflow.json", "w"))
    """
)


def _timed(fn: Callable[[], Any], times: list[float]) -> Any:
    start = time.perf_counter()
    result = fn()
    times.append(time.perf_counter() - start)
    return result


def _save_model(path: Path) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import pack

    features, labels = load_iris(return_X_y=True, as_frame=True)
    pack.save_model(LogisticRegression(max_iter=300).fit(features, labels), path, input_example=features.head(2))


def run_pack(workdir: Path, source: Path, config: dict[str, int]) -> dict[str, list[float]]:
    """The same operations on pack's store, in-process."""
    from pack.refs import ModelRef
    from pack.registry import RegistrySettings, Services
    from pack.tracking import Client

    settings = RegistrySettings(
        tracking_uri=f"sqlite:///{workdir}/pack.db", default_artifact_root=str(workdir / "packruns"), user="bench"
    )
    services = Services.from_settings(settings)
    client = Client(services=services)
    registry = services.registry
    n = config["versions"]
    out: dict[str, list[float]] = {k: [] for k in ("create", "transition", "alias", "by_alias", "by_stage")}
    client.create_registered_model("m")
    for _ in range(n):
        _timed(lambda: client.create_model_version("m", str(source)), out["create"])
    production = n // 2
    _timed(lambda: client.transition_model_version_stage("m", production, "Production"), out["transition"])
    for i in range(config["alias_sets"]):
        _timed(lambda i=i: client.set_registered_model_alias("m", "champion", n - (i % 2)), out["alias"])
    alias_ref, stage_ref = ModelRef.parse("models:/m@champion"), ModelRef.parse("models:/m/Production")
    for _ in range(config["resolutions"]):
        version = _timed(lambda: registry.resolve(alias_ref), out["by_alias"])
    assert version.version in (n, n - 1)
    for _ in range(config["resolutions"]):
        version = _timed(lambda: registry.resolve(stage_ref), out["by_stage"])
    assert version.version == production
    out["resolve_path"] = []
    for _ in range(config["resolutions"]):
        _timed(lambda: registry.resolve_path(alias_ref), out["resolve_path"])
    out["first_page"] = []
    for _ in range(config["page_repeats"]):
        page = _timed(
            lambda: client.search_model_versions("name='m'", max_results=config["page_size"]), out["first_page"]
        )
    assert len(page) == config["page_size"]

    def list_all() -> int:
        seen, token = 0, None
        while True:
            page = client.search_model_versions("name='m'", page_token=token)
            seen += len(page)
            token = page.token
            if not token:
                return seen

    out["list_all"] = []
    for _ in range(config["list_repeats"]):
        assert _timed(list_all, out["list_all"]) == n
    nofsync = Services.from_settings(settings.model_copy(update={"artifact_fsync": False}))
    out["create_nofsync"] = []
    for _ in range(min(200, n)):
        _timed(lambda: nofsync.registry.create_model_version("m", str(source)), out["create_nofsync"])
    nofsync.close()
    services.close()
    return out


def run_pack_at_scale(workdir: Path, source: Path, total: int, resolutions: int) -> dict[str, Any]:
    """pack alone: 100,000 versions (bulk-inserted rows beyond the first real ones), then resolutions."""
    from sqlalchemy import insert, select

    from pack.refs import ModelRef
    from pack.registry import RegistrySettings, Services
    from pack.store.sql.tables import model_version_files, model_versions, registered_models
    from pack.tracking import Client

    settings = RegistrySettings(
        tracking_uri=f"sqlite:///{workdir}/scale.db", default_artifact_root=str(workdir / "scale"), user="bench"
    )
    services = Services.from_settings(settings)
    client = Client(services=services)
    registry = services.registry
    client.create_registered_model("m")
    real = client.create_model_version("m", str(source))  # one real version; its files back every row
    files = client.get_model_version_files("m", 1)
    start = time.perf_counter()

    def load(conn: Any) -> None:
        model = conn.execute(select(registered_models.c.id).where(registered_models.c.name == "m")).scalar_one()
        for low in range(2, total + 1, 10_000):
            batch = range(low, min(low + 10_000, total + 1))
            conn.execute(
                insert(model_versions),
                [
                    {
                        "model_id": model, "version": v, "creation_time": v, "last_updated_time": v,
                        "current_stage": "None", "status": "READY", "storage_location": real.storage_location,
                        "source": str(source), "user_id": "bench", "size_bytes": real.size_bytes,
                        "file_count": real.file_count, "flavors": "sklearn,python_function",
                    }
                    for v in batch
                ],
            )  # fmt: skip
            conn.execute(
                insert(model_version_files),
                [{"model_id": model, "version": v, "path": f.path, "sha256": f.sha256, "size": f.size}
                 for v in batch for f in files],
            )  # fmt: skip
        conn.execute(registered_models.update().values(last_version=total))

    services.databases[0].transact(load)
    load_seconds = time.perf_counter() - start
    client.transition_model_version_stage("m", total // 2, "Production")
    client.set_registered_model_alias("m", "champion", total - 1)
    out: dict[str, Any] = {"load_seconds": load_seconds}
    for key, uri in (("by_alias", "models:/m@champion"), ("by_stage", "models:/m/Production"),
                     ("latest", "models:/m/latest")):  # fmt: skip
        ref, times = ModelRef.parse(uri), []
        for _ in range(resolutions):
            _timed(lambda ref=ref: registry.resolve(ref), times)
        out[key] = times
    times = []
    for _ in range(resolutions):
        _timed(lambda: registry.resolve_path(ModelRef.parse("models:/m@champion")), times)
    out["resolve_path"] = times
    services.close()
    return out


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run (500 versions, 100 resolutions)")
    args = parser.parse_args()
    config = (
        {"versions": 500, "resolutions": 100, "alias_sets": 20, "page_size": 100, "page_repeats": 5, "list_repeats": 3,
         "scale": 5_000}
        if args.quick
        else {"versions": 10_000, "resolutions": 1_000, "alias_sets": 50, "page_size": 100, "page_repeats": 20,
              "list_repeats": 5, "scale": 100_000}
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="pack-bench-registry-") as tmp:
        root = Path(tmp)
        source = root / "model"
        _save_model(source)
        files = sum(1 for p in source.rglob("*") if p.is_file())
        print(f"model: {files} files, {sum(p.stat().st_size for p in source.rglob('*') if p.is_file())} bytes")
        (root / "mlflow").mkdir()
        (root / "mlflow" / "config.json").write_text(json.dumps({**config, "source": str(source)}))
        start = time.perf_counter()
        run_mlflow(MLFLOW_SCRIPT, root / "mlflow", timeout=7200)
        mlflow = json.loads((root / "mlflow" / "mlflow.json").read_text())
        print(f"MLflow done in {time.perf_counter() - start:.0f} s")
        (root / "pack").mkdir()
        start = time.perf_counter()
        ours = run_pack(root / "pack", source, config)
        print(f"pack done in {time.perf_counter() - start:.0f} s")
        (root / "scale").mkdir()
        scale = run_pack_at_scale(root / "scale", source, config["scale"], config["resolutions"])
    n, r = config["versions"], config["resolutions"]
    rows = [
        (f"create_model_version (median of {n:,})", "create"),
        ("transition_model_version_stage", "transition"),
        (f"set_registered_model_alias (median of {config['alias_sets']})", "alias"),
        (f"resolve `models:/m@champion` (median of {r:,})", "by_alias"),
        (f"resolve `models:/m/Production` (median of {r:,})", "by_stage"),
        (f"search_model_versions first page of {config['page_size']}", "first_page"),
        (f"list all {n:,} versions (default page size; median of {config['list_repeats']})", "list_all"),
    ]
    lines = [
        f"## Registry: one model with {n:,} versions (pack vs MLflow {MLFLOW_VERSION}, SQLite)",
        "",
        f"Same machine, same run, same file system; the registered model directory has {files} files. MLflow's",
        "SQLAlchemy store in its own virtualenv; pack in-process with its defaults (SQLite WAL, files fsynced).",
        "pack's registration also copies, hashes and fsyncs the files; MLflow's records the path only.",
        "Listing follows `search_model_versions(\"name='m'\")` page tokens with each client's default page",
        "size (10,000 on both sides: one page of entities).",
        "",
        "| operation | pack | MLflow | pack speed-up |",
        "|---|---|---|---|",
    ]
    for label, key in rows:
        ours_ms, theirs_ms = _ms(ours[key]), _ms(mlflow[key])
        lines.append(f"| {label} | {ours_ms:.2f} ms | {theirs_ms:.2f} ms | {theirs_ms / ours_ms:.1f}x |")
    lines += [
        "",
        f"pack extras: registration without fsync {_ms(ours['create_nofsync']):.2f} ms (median of "
        f"{len(ours['create_nofsync'])}); `models:/m@champion` resolved to a verified local directory "
        f"(`resolve_path`, cached checksums) {_ms(ours['resolve_path']):.2f} ms.",
        "",
        f"### pack alone at {config['scale']:,} versions ({r:,} resolutions each; p99 in brackets)",
        "",
        "| resolution | median | p99 |",
        "|---|---|---|",
    ]
    scale_rows = (
        ("`models:/m@champion`", "by_alias"),
        ("`models:/m/Production`", "by_stage"),
        ("`models:/m/latest`", "latest"),
        ("`models:/m@champion` to verified files", "resolve_path"),
    )
    for label, key in scale_rows:
        lines.append(f"| {label} | {_ms(scale[key]):.2f} ms | {_p99(scale[key]):.2f} ms |")
    lines += ["", f"(rows beyond the first real version bulk-inserted in {scale['load_seconds']:.1f} s)"]
    body = "\n".join(lines)
    print(body)
    if not args.quick:
        write_section("registry", body)


if __name__ == "__main__":
    main()
