"""pack end to end on the embedded defaults: train, package, load and predict.

Run from the repository root: python examples/quickstart.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

import pack
import pack.pyfunc


def main() -> None:
    features, labels = make_classification(n_samples=1000, n_features=10, random_state=0)
    frame = pd.DataFrame(features, columns=[f"f{i}" for i in range(10)])
    model = RandomForestClassifier(n_estimators=50, max_depth=8, random_state=0).fit(frame, labels)

    workdir = Path(tempfile.mkdtemp(prefix="pack-quickstart-"))
    saved = pack.save_model(model, workdir / "model", input_example=frame.head(5))
    print(f"saved {', '.join(saved.flavors)} model to {workdir / 'model'}")

    loaded = pack.pyfunc.load_model(workdir / "model")
    predictions = loaded.predict(frame.head(20))
    assert np.array_equal(predictions, model.predict(frame.head(20))), "predictions differ"
    print(f"pyfunc predictions match the estimator: {predictions[:10].tolist()}")


if __name__ == "__main__":
    main()
