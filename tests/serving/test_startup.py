"""What a started ``pack serve`` has imported before its first request: only what scoring needs."""

from __future__ import annotations

from pathlib import Path

from tests.serving.support import ServerProcess

# Never on the serving path of a scikit-learn model: databases, the registry and tracking, the
# builders, the other commands, parquet, deep-learning frameworks, skops (pack reads skops files
# itself; skops' import walks scikit-learn's packages and pulls in torch where it is installed).
# pyarrow is not listed: pandas imports it whenever it is installed (and scikit-learn imports pandas).
NOT_IMPORTED = (
    "sqlalchemy",
    "alembic",
    "torch",
    "tensorflow",
    "keras",
    "onnxruntime",
    "skops",
    "jinja2",
    "httpx",
    "pack.registry",
    "pack.store",
    "pack.tracking",
    "pack.server",
    "pack.builders",
    "pack.deploy",
    "pack.projects",
    "pack.spark",
    "pack.ui",
    "pack.cli.build",
    "pack.cli.server",
    "pack.cli.registry",
    "pack.cli.tracking",
    "pack.cli.models",
    "pack.cli.run",
    "pack.cli.deployments",
)
# Run in the server's process: on exit, write the names of every module it imported.
DUMP = "import atexit, sys\natexit.register(lambda: open({path!r}, 'w').write('\\n'.join(sys.modules)))"


def test_a_started_sklearn_server_imports_nothing_scoring_does_not_need(tmp_path: Path, rf_model: Path) -> None:
    """Started, loaded and warmed up, then stopped before any scoring request."""
    dump = tmp_path / "modules.txt"
    server = ServerProcess([str(rf_model)], tmp_path / "server.log", before=DUMP.format(path=str(dump)))
    try:
        server.wait_ready()
    finally:
        assert server.stop() == 0, server.output
    imported = set(dump.read_text().split())
    assert {"sklearn.ensemble._forest", "pack.serving.dataplane", "uvicorn"} <= imported
    unwanted = sorted(
        name for name in imported for package in NOT_IMPORTED if name == package or name.startswith(package + ".")
    )
    assert unwanted == [], unwanted
