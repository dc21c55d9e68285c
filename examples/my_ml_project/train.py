"""Train a linear classifier on a CSV file, one pass over the data per epoch, and log it all in the run.

Runs under `pack run` (which passes PACK_RUN_ID, so `start_run()` records into the project's run) and,
unchanged, under `mlflow run`.
"""

import argparse

try:
    import pack as tracking
    import pack.sklearn as tracking_sklearn
except ImportError:  # the same script under `mlflow run`
    import mlflow as tracking
    import mlflow.sklearn as tracking_sklearn

import pandas as pd
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("--data_path", required=True)
parser.add_argument("--epochs", type=int, required=True)
args = parser.parse_args()

frame = pd.read_csv(args.data_path)
features, labels = frame.drop(columns=["species"]), frame["species"]
X_train, X_test, y_train, y_test = train_test_split(features, labels, test_size=0.3, random_state=0, stratify=labels)
scaler = StandardScaler().fit(X_train)
classifier = SGDClassifier(loss="log_loss", random_state=0)

with tracking.start_run():
    tracking.log_param("classifier", "SGDClassifier")
    for epoch in range(args.epochs):
        classifier.partial_fit(scaler.transform(X_train), y_train, classes=sorted(labels.unique()))
        accuracy = classifier.score(scaler.transform(X_test), y_test)
        tracking.log_metric("accuracy", accuracy, step=epoch)
        print(f"epoch {epoch + 1}/{args.epochs}: accuracy {accuracy:.3f}")
    model = make_pipeline(scaler, classifier)
    tracking_sklearn.log_model(model, name="model", input_example=X_train.head(5))
