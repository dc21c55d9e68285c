"""One SparkSession on ``local[2]`` for the whole test session (Spark starts slowly on shared cores).

Skipped with a reason when pyspark or a Java runtime is missing. Python workers run this interpreter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

# pyspark 4.x warns that pandas 3 is not fully supported yet, and its toPandas() passes pandas 3's
# deprecated copy= keyword; what pack uses of the pair is tested here.
PYSPARK_ON_PANDAS_3 = (
    "ignore:PySpark does not yet fully support pandas:FutureWarning",
    "ignore:The copy keyword is deprecated",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/spark/" in item.nodeid:
            for rule in PYSPARK_ON_PANDAS_3:
                item.add_marker(pytest.mark.filterwarnings(rule))


def _java_missing() -> str | None:
    java = shutil.which("java") or (
        os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else None
    )
    if java is None:
        return "no Java runtime (Spark needs Java 17+: apt-get install openjdk-17-jre-headless)"
    done = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    return None if done.returncode == 0 else f"java -version failed: {done.stderr.strip()[:200]}"


@pytest.fixture(scope="session")
def spark_runs() -> None:
    """Skip unless pyspark and a Java runtime are here."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'pack[spark]')")
    reason = _java_missing()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def spark(spark_runs: None) -> Iterator[Any]:
    """A SparkSession on local[2] whose Python workers run this interpreter."""
    from pyspark.sql import SparkSession

    saved = {key: os.environ.get(key) for key in ("PYSPARK_PYTHON", "SPARK_LOCAL_IP")}
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = (
        SparkSession.builder.master("local[2]")
        .appName("pack-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
