"""SageMaker's container contract: ``docker run IMAGE serve`` serves /opt/ml/model on port 8080.

This file is copied into the image and is its exec-form ENTRYPOINT. It replaces itself with
``pack serve``, so the server is PID 1 and receives SageMaker's SIGTERM directly (it drains in-flight
requests well inside the 30 s before SIGKILL). ``SAGEMAKER_BIND_TO_PORT`` moves the port and
``SAGEMAKER_MODEL_SERVER_WORKERS`` sets the number of worker processes. The model is served under
its registered name and version (``PACK_SAGEMAKER_MODEL``, ``NAME:VERSION=/opt/ml/model``, set by the
image), so the log and the metrics name it. An image built with ``--safe-only`` carries ``PACK_SAFE_ONLY=1``.
"""

from __future__ import annotations

import os
import sys

MODEL_DIR = "/opt/ml/model"


def main(argv: list[str]) -> int:
    if argv[:1] != ["serve"]:
        what = argv[0] if argv else "nothing"
        sys.stderr.write(f"this image only serves: run it with the argument 'serve' (got {what!r})\n")
        return 2
    command = ["pack", "serve", os.environ.get("PACK_SAGEMAKER_MODEL", MODEL_DIR), "--host", "0.0.0.0"]
    command += ["--port", os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")]
    workers = os.environ.get("SAGEMAKER_MODEL_SERVER_WORKERS")
    if workers:
        command += ["--workers", workers]
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
