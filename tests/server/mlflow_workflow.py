"""Run by MLflow's own interpreter (never imported by pack's tests): the unmodified ``mlflow`` client
through every step of the research file's call lists and the ``MlflowClient`` registry methods, against
the tracking URI in argv[1]. Prints one JSON line of what it saw."""

import json
import subprocess
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

uri = sys.argv[1]
mlflow.set_tracking_uri(uri)
out = {}

experiment = mlflow.set_experiment("conformance-exp")
out["experiment_location"] = experiment.artifact_location
features, labels = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(max_iter=500).fit(features, labels)
with open("notes.txt", "w") as handle:
    handle.write("n" * 600)

with mlflow.start_run(run_name="conformance") as run:
    run_id = run.info.run_id
    mlflow.log_param("C", 1.0)
    mlflow.log_params({"solver": "lbfgs", "max_iter": 500})
    mlflow.log_metric("acc", 0.5)
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metrics({"acc": 0.97, "f1": 0.95})
    mlflow.set_tag("team", "fraud")
    mlflow.log_dict({"alpha": 1}, "cfg/config.json")
    mlflow.log_artifact("notes.txt")
    mlflow.log_input(mlflow.data.from_pandas(features.head(20), name="iris"), context="training")
    info = mlflow.sklearn.log_model(
        model, name="model", registered_model_name="conformance", input_example=features[:3]
    )
out["model_id"] = info.model_id

client = MlflowClient()
fetched = client.get_run(run_id)
out["run"] = {
    "status": fetched.info.status,
    "params": fetched.data.params,
    "metrics": fetched.data.metrics,
    "tag_team": fetched.data.tags.get("team"),
    "source_type": fetched.data.tags.get("mlflow.source.type"),
    "datasets": [d.dataset.name for d in fetched.inputs.dataset_inputs],
    "outputs": [m.model_id for m in fetched.outputs.model_outputs] if fetched.outputs else [],
    "artifact_uri": fetched.info.artifact_uri,
}
out["history"] = [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")]
out["artifacts"] = sorted(a.path for a in client.list_artifacts(run_id))
out["artifacts_cfg"] = [a.path for a in client.list_artifacts(run_id, "cfg")]
frame = mlflow.search_runs(
    experiment_names=["conformance-exp"],
    filter_string="metrics.acc > 0.9 AND params.C = '1.0'",
    order_by=["metrics.acc DESC"],
)
out["search_runs"] = list(frame["run_id"])
out["client_search_runs"] = [
    r.info.run_id for r in client.search_runs([experiment.experiment_id], "tags.team = 'fraud'")
]
out["search_experiments"] = sorted(e.name for e in mlflow.search_experiments())
out["get_experiment_by_name"] = mlflow.get_experiment_by_name("conformance-exp").experiment_id

# the registry, through MlflowClient
client.transition_model_version_stage("conformance", 1, "Production")
client.set_registered_model_alias("conformance", "champion", 1)
out["by_alias"] = client.get_model_version_by_alias("conformance", "champion").version
out["latest"] = [(v.version, v.current_stage) for v in client.get_latest_versions("conformance", stages=["Production"])]
out["registered_models"] = [m.name for m in client.search_registered_models()]
out["versions"] = [v.version for v in client.search_model_versions("name='conformance'")]
out["download_uri"] = client.get_model_version_download_uri("conformance", 1)
client.set_model_version_tag("conformance", 1, "validated", "yes")
client.update_model_version("conformance", 1, description="first")
version = client.get_model_version("conformance", 1)
out["version"] = {
    "tags": version.tags,
    "description": version.description,
    "status": version.status,
}
out["model_versions_tag"] = client.get_logged_model(info.model_id).tags.get("mlflow.modelVersions")
client.set_registered_model_tag("conformance", "owner", "risk")
client.update_registered_model("conformance", description="the model")
registered = client.get_registered_model("conformance")
out["registered"] = {"tags": registered.tags, "description": registered.description, "aliases": registered.aliases}

# client-side runs: create, log_batch, end
created = client.create_run(experiment.experiment_id, tags={"kind": "client"})
client.log_batch(
    created.info.run_id,
    metrics=[Metric("m", float(i), 1000 + i, i) for i in range(100)],
    params=[Param("p", "1")],
    tags=[RunTag("t", "1")],
)
client.set_terminated(created.info.run_id)
out["client_run"] = [
    client.get_run(created.info.run_id).info.status,
    len(client.get_metric_history(created.info.run_id, "m")),
]

# registering from runs:/ (MLflow 3 finds the logged model), loading from runs:/ and downloading
out["register_again"] = mlflow.register_model(f"runs:/{run_id}/model", "conformance").version
out["runs_load"] = mlflow.sklearn.load_model(f"runs:/{run_id}/model").predict(features[:4]).tolist()
path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="notes.txt")
with open(path) as handle:
    out["downloaded"] = len(handle.read())

# loading by stage and by alias in fresh processes
loader = (
    "import mlflow, sys; from sklearn.datasets import load_iris; mlflow.set_tracking_uri(sys.argv[1]); "
    "X, _ = load_iris(return_X_y=True, as_frame=True); "
    "print(mlflow.pyfunc.load_model(sys.argv[2]).predict(X[:4]).tolist())"
)
for model_uri in ("models:/conformance/Production", "models:/conformance@champion"):
    done = subprocess.run([sys.executable, "-c", loader, uri, model_uri], capture_output=True, text=True, check=True)
    out[model_uri] = json.loads(done.stdout.strip().splitlines()[-1])
out["expected"] = model.predict(features[:4]).tolist()

# errors the client depends on, and MLflow's answers to what is not valid MLflow
errors = {}
try:
    client.create_registered_model("conformance")
except MlflowException as exc:
    errors["duplicate_model"] = exc.error_code
try:
    client.get_run("0" * 32)
except MlflowException as exc:
    errors["missing_run"] = exc.error_code
try:
    client.create_model_version("conformance", f"runs:/{run_id}/model", "Experiment1")
except MlflowException as exc:
    errors["bad_run_id"] = exc.error_code
try:
    client.log_param(run_id, "C", 2.0)
except MlflowException as exc:
    errors["changed_param"] = exc.error_code
try:
    client.create_model_version("conformance", "/etc", None)
except MlflowException as exc:
    errors["foreign_source"] = exc.error_code
out["errors"] = errors

# deleting
client.delete_registered_model_alias("conformance", "champion")
client.delete_model_version_tag("conformance", 1, "validated")
client.delete_registered_model_tag("conformance", "owner")
client.delete_model_version("conformance", 2)
out["after_delete"] = [v.version for v in client.search_model_versions("name='conformance'")]
client.rename_registered_model("conformance", "conformance-renamed")
client.delete_registered_model("conformance-renamed")
out["models_left"] = [m.name for m in client.search_registered_models()]
client.delete_run(created.info.run_id)
client.delete_experiment(mlflow.create_experiment("short-lived"))
print(json.dumps(out))
