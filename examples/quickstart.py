"""pack end to end on the embedded defaults: train, track a run, register, promote, load from the registry,
serve it over HTTP.

Run: python examples/quickstart.py
Everything goes to sqlite:///pack.db and ./packruns in the working directory (PACK_TRACKING_URI and
PACK_DEFAULT_ARTIFACT_ROOT choose others). Run it again and it registers and promotes a new version.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

import pack
import pack.pyfunc
import pack.sklearn

NAME = "RandomForestClassifier"


def main() -> None:
    features, labels = make_classification(n_samples=1000, n_features=10, random_state=0)
    frame = pd.DataFrame(features, columns=[f"f{i}" for i in range(10)])
    X_train, X_test, y_train, y_test = train_test_split(frame, labels, test_size=0.2, random_state=0)
    params = {"n_estimators": 50, "max_depth": 8, "random_state": 0}

    pack.set_experiment("quickstart")
    with pack.start_run(run_name="random-forest") as run:
        model = RandomForestClassifier(**params).fit(X_train, y_train)
        pack.log_params(params)
        pack.log_metric("accuracy", float(model.score(X_test, y_test)))
        info = pack.sklearn.log_model(model, name="model", input_example=X_test.head(5), registered_model_name=NAME)
    accuracy = pack.get_run(run.info.run_id).data.metrics["accuracy"]
    print(f"run {run.info.run_id}: params {params}, accuracy {accuracy:.3f}, model at {info.model_uri}")

    client = pack.Client()
    version = info.registered_model_version
    client.transition_model_version_stage(NAME, version, "Production", archive_existing_versions=True)
    client.set_registered_model_alias(NAME, "champion", version)
    print(f"registered {NAME} version {version}, promoted to Production, alias @champion")

    loaded = pack.pyfunc.load_model(f"models:/{NAME}/Production")
    predictions = loaded.predict(X_test)
    assert np.array_equal(predictions, model.predict(X_test)), "predictions differ"
    print(f"models:/{NAME}/Production predicts like the estimator: {predictions[:10].tolist()}")

    latest = client.get_model_version_history(NAME)[:2]
    for event in reversed(latest):
        change = "stage" if event.kind == "stage" else f"alias @{event.alias}"
        print(
            f"history: {event.user} moved {change} of version {event.version}: {event.from_value} -> {event.to_value}"
        )
    print(f"tracking database {pack.get_tracking_uri()}")

    served = serve_and_score(f"models:/{NAME}@champion", X_test.head(5))
    assert served == model.predict(X_test.head(5)).tolist(), "served predictions differ"
    print(f"pack serve models:/{NAME}@champion answered POST /invocations: {served}")


def serve_and_score(model_uri: str, rows: pd.DataFrame) -> list[int]:
    """Start ``pack serve`` on a free port, score ``rows`` over HTTP, stop it with SIGTERM."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "pack.cli", "serve", model_uri, "-p", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:  # /ping answers 200 once the model is loaded and warmed up
            try:
                with urllib.request.urlopen(f"{base}/ping", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pack serve did not become ready: {server.stderr.read().decode()}") from None
                time.sleep(0.2)
        body = json.dumps({"dataframe_split": rows.to_dict(orient="split", index=False)}).encode()
        request = urllib.request.Request(f"{base}/invocations", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            predictions: list[int] = json.loads(response.read())["predictions"]
        return predictions
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


if __name__ == "__main__":
    main()
