"""The tracking API hangs off ``import pack`` lazily: MLflow's names, no database import until used."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(code: str) -> set[str]:
    script = f"import sys; {code}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in out.split()}


def test_import_pack_imports_no_database_or_settings_code():
    loaded = _loaded_after("import pack")
    assert not loaded & {"sqlalchemy", "alembic", "pydantic", "pydantic_settings", "fsspec", "psycopg"}


def test_tracking_names_resolve_lazily():
    loaded = _loaded_after("import pack; pack.start_run; pack.log_metric; pack.Client; pack.MlflowClient")
    assert "sqlalchemy" in loaded  # only now


def test_mlflow_names_are_exported():
    import pack

    names = [
        "start_run", "end_run", "active_run", "log_param", "log_params", "log_metric", "log_metrics",
        "set_tag", "set_tags", "log_artifact", "log_artifacts", "set_tracking_uri", "get_tracking_uri",
        "set_experiment", "register_model", "log_model", "Client", "MlflowClient",
    ]  # fmt: skip
    for name in names:
        assert name in pack.__all__ and callable(getattr(pack, name)), name
    assert pack.MlflowClient is pack.Client
    import pack.pyfunc
    import pack.sklearn

    assert callable(pack.sklearn.log_model) and callable(pack.pyfunc.log_model)
