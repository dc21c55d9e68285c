# Java for pyspark's local[2] tests (pyspark itself comes from the `spark` extra of the test install; its
# wheel, built from PyPI's sdist, is cached in $PIP_CACHE_DIR). Sourced by .ci/run; it must not fail the
# run: without Java the Spark tests skip with their reason.
if ! command -v java >/dev/null 2>&1 && [ -z "${JAVA_HOME:-}" ]; then
  echo "installing a Java runtime for Spark (Debian package)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }; then
    echo "no Java runtime could be installed; the Spark tests will be skipped"
  fi
fi
# Spark binds its driver to this address instead of guessing one from the host name.
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
