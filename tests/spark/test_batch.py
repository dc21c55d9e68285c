"""``score_dataset`` in-process on the shared session: CSV typed by the signature, refusals before work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pack
import pack.pyfunc
from pack.errors import AlreadyExists, InvalidInput

FEATURES = [f"f{i}" for i in range(10)]


@pytest.fixture
def model_and_rows(tmp_path, random_forest, classification_data):
    frame = classification_data[0].head(50).reset_index(drop=True)
    pack.save_model(random_forest, tmp_path / "rf", input_example=frame.head(3))
    return tmp_path / "rf", frame.assign(id=np.arange(len(frame)))


def test_csv_columns_are_read_as_the_signature_types(spark, tmp_path, model_and_rows):
    from pack.spark.batch import score_dataset

    model, frame = model_and_rows
    frame.to_csv(tmp_path / "rows.csv", index=False)
    seen = []
    result = score_dataset(
        spark, str(model), tmp_path / "rows.csv", tmp_path / "out", result_column="label", on_progress=seen.append
    )
    assert (result.rows, result.output) == (50, tmp_path / "out") and result.rows_per_second > 0
    assert all(0 <= p.done <= p.total for p in seen)  # progress polls, if the job outlived one
    out = pd.read_parquet(tmp_path / "out").assign(id=lambda f: f["id"].astype(int)).sort_values("id")
    assert out[FEATURES].dtypes.eq(np.float64).all()  # CSV text, cast to the signature's doubles
    expected = pack.pyfunc.load_model(model).predict(frame[FEATURES])
    np.testing.assert_array_equal(out["label"].to_numpy(), expected)
    assert not list(tmp_path.glob(".out.*"))


def test_refusals_come_before_any_spark_job(spark, tmp_path, model_and_rows):
    from pack.spark.batch import detect_format, score_dataset

    model, frame = model_and_rows
    frame.to_parquet(tmp_path / "rows.parquet")
    (tmp_path / "taken").mkdir()
    with pytest.raises(AlreadyExists):
        score_dataset(spark, str(model), tmp_path / "rows.parquet", tmp_path / "taken")
    with pytest.raises(InvalidInput, match="already has a column 'id'"):
        score_dataset(spark, str(model), tmp_path / "rows.parquet", tmp_path / "out", result_column="id")
    (tmp_path / "rows.txt").write_text("x")
    with pytest.raises(InvalidInput, match="pass --input-format"):
        detect_format(tmp_path / "rows.txt", None)
    assert not (tmp_path / "out").exists()
