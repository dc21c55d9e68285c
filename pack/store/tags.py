"""The ``mlflow.*`` tag names pack reads and writes (MLflow's, so MLflow's tools understand our runs)."""

RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"
PARENT_RUN_TAG = "mlflow.parentRunId"
NOTE_TAG = "mlflow.note.content"

__all__ = ["NOTE_TAG", "PARENT_RUN_TAG", "RUN_NAME_TAG", "USER_TAG"]
