"""MLflow's documented snippets, unchanged but for ``mlflow`` -> ``pack``, on the embedded defaults."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def test_tracking_snippet_params_metrics_artifact(workdir):
    import pack

    with open("features.txt", "w") as f:
        f.write("rooms, zipcode, median_price, school_rating, transport")

    with pack.start_run() as run:
        pack.log_param("alpha", 0.5)
        pack.log_params({"l1_ratio": 0.1, "max_iter": 100})
        pack.log_metric("rmse", 0.78)
        for epoch in range(3):
            pack.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
        pack.log_metrics({"r2": 0.31, "mae": 0.62})
        pack.set_tag("release.version", "2.2.0")
        pack.log_artifact("features.txt")

    client = pack.MlflowClient()
    finished = client.get_run(run.info.run_id)
    assert finished.info.status == "FINISHED" and finished.info.end_time is not None
    assert finished.data.params == {"alpha": "0.5", "l1_ratio": "0.1", "max_iter": "100"}
    assert finished.data.metrics == {"rmse": 0.78, "loss": 1 / 3, "r2": 0.31, "mae": 0.62}
    assert [m.value for m in client.get_metric_history(run.info.run_id, "loss")] == [1.0, 0.5, 1 / 3]
    assert finished.data.tags["release.version"] == "2.2.0"
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["features.txt"]
    assert (workdir / "pack.db").is_file()  # the embedded default, in the working directory
    assert Path(finished.info.artifact_uri, "features.txt").read_text().startswith("rooms")
    assert Path(finished.info.artifact_uri).is_relative_to(workdir / "packruns")


def test_sklearn_log_model_snippet_registers(workdir):
    from sklearn.datasets import make_regression
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import train_test_split

    import pack
    import pack.sklearn
    from pack.models import infer_signature

    with pack.start_run() as run:
        X, y = make_regression(n_features=4, n_informative=2, random_state=0, shuffle=False)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
        params = {"max_depth": 2, "random_state": 42}
        model = RandomForestRegressor(**params)
        model.fit(X_train, y_train)

        # Infer the model signature
        y_pred = model.predict(X_test)
        signature = infer_signature(X_test, y_pred)

        # Log parameters and metrics using the MLflow APIs
        pack.log_params(params)
        pack.log_metrics({"mse": float(np.mean((y_pred - y_test) ** 2))})

        # Log the sklearn model and register as version 1
        pack.sklearn.log_model(
            sk_model=model,
            artifact_path="sklearn-model",
            signature=signature,
            registered_model_name="sk-learn-random-forest-reg-model",
        )

    version = pack.MlflowClient().get_model_version("sk-learn-random-forest-reg-model", 1)
    assert (version.run_id, version.source) == (run.info.run_id, f"runs:/{run.info.run_id}/sklearn-model")
    loaded = pack.pyfunc.load_model("models:/sk-learn-random-forest-reg-model/1")
    assert np.allclose(loaded.predict(X_test), y_pred)


def test_registry_client_snippet(workdir, trained):
    import pack
    import pack.sklearn

    _, estimator, features = trained
    with pack.start_run() as run:
        pack.sklearn.log_model(estimator, name="sklearn-model")
    run_id = run.info.run_id

    from pack import MlflowClient

    client = MlflowClient()
    client.create_registered_model("sk-learn-random-forest-reg-model")
    result = client.create_model_version(
        name="sk-learn-random-forest-reg-model",
        source=f"{run.info.artifact_uri}/sklearn-model",
        run_id=run_id,
    )
    client.transition_model_version_stage(
        name="sk-learn-random-forest-reg-model", version=result.version, stage="Production"
    )
    client.set_registered_model_alias("sk-learn-random-forest-reg-model", "champion", result.version)

    model_version = client.get_model_version_by_alias("sk-learn-random-forest-reg-model", "champion")
    assert (model_version.version, model_version.current_stage) == (1, "Production")
    for uri in (
        "models:/sk-learn-random-forest-reg-model/Production",
        "models:/sk-learn-random-forest-reg-model@champion",
    ):
        model = pack.pyfunc.load_model(uri)
        assert np.array_equal(model.predict(features.head(5)), estimator.predict(features.head(5)))
    loaded = pack.sklearn.load_model("models:/sk-learn-random-forest-reg-model/1")
    assert type(loaded).__name__ == type(estimator).__name__


def test_pyfunc_custom_model_snippet(workdir):
    import warnings

    import pandas as pd

    import pack.pyfunc
    from pack.errors import UnsafeFormatWarning

    class AddN(pack.pyfunc.PythonModel):
        def __init__(self, n):
            self.n = n

        def predict(self, context, model_input, params=None):
            return model_input.apply(lambda column: column + self.n)

    with pack.start_run():
        model_info = pack.pyfunc.log_model(artifact_path="add_n_model", python_model=AddN(n=5))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsafeFormatWarning)  # a cloudpickled PythonModel
        loaded_model = pack.pyfunc.load_model(model_info.model_uri)
    model_input = pd.DataFrame([range(10)])
    assert loaded_model.predict(model_input).iloc[0].tolist() == list(range(5, 15))
