"""AWS for the sagemaker target: boto3 clients, errors in one line, the endpoint wait, the model bucket.

Credentials, region and endpoint come from boto3's usual chain (environment, ``~/.aws``, instance
roles; ``AWS_ENDPOINT_URL`` points every client at another endpoint, e.g. a moto server).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pack.errors import DeployError, NotFound, PackError

DEFAULT_REGION = "us-west-2"  # MLflow's default for SageMaker deployments
WAITING = ("Creating", "Updating", "SystemUpdating", "RollingBack")


def aws_session(region: str | None) -> Any:
    """A boto3 session in ``region`` (else the configured one, else us-west-2).

    Raises:
        DeployError: boto3 is not installed.
    """
    try:
        import boto3
    except ImportError:
        raise DeployError("boto3 is not installed: pip install 'pack[sagemaker]'") from None
    session = boto3.Session(region_name=region) if region else boto3.Session()
    if session.region_name is None:
        session = boto3.Session(region_name=DEFAULT_REGION)
    return session


def aws_error(exc: Exception, what: str) -> PackError:
    """A botocore failure as a pack error: a missing resource is ``NotFound``, anything else ``DeployError``."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        message = str(error.get("Message") or exc).splitlines()[0][:300]
        if "Could not find" in message or error.get("Code") in ("NoSuchKey", "NoSuchBucket", "404"):
            return NotFound(f"{what}: {message}")
        return DeployError(f"{what}: {error.get('Code', 'error')}: {message}")
    return DeployError(f"{what}: {' '.join(str(exc).split())[:300]}")


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Raise botocore's failures inside the block as ``aws_error`` says."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise aws_error(exc, what) from None


def ensure_bucket(session: Any, bucket: str | None) -> str:
    """``bucket``, or ``pack-sagemaker-<region>-<account>`` made on first use (as MLflow does)."""
    s3 = session.client("s3")
    if bucket is None:
        with aws_errors("cannot name the default bucket"):
            account = session.client("sts").get_caller_identity()["Account"]
        bucket = f"pack-sagemaker-{session.region_name}-{account}"
        try:
            with aws_errors(f"bucket {bucket}"):
                s3.head_bucket(Bucket=bucket)
        except NotFound:
            location = {} if session.region_name == "us-east-1" else {"LocationConstraint": session.region_name}
            with aws_errors(f"cannot create bucket {bucket}"):
                s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
    return bucket


def wait_for_endpoint(
    describe: Callable[[], Mapping[str, Any]],
    timeout: float,
    poll: float,
    report: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> Mapping[str, Any]:
    """Describe the endpoint until it is ``InService``; report each status change; return the last description.

    Raises:
        DeployError: it went ``Failed`` or ``OutOfService`` (with SageMaker's reason), or time ran out.
    """
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        described = describe()
        status = str(described.get("EndpointStatus"))
        if status != last:
            report(f"endpoint {described.get('EndpointName')} is {status}")
            last = status
        if status == "InService":
            return described
        if status not in WAITING:
            reason = described.get("FailureReason") or "no reason given"
            raise DeployError(f"endpoint {described.get('EndpointName')} is {status}: {reason}")
        if time.monotonic() > deadline:
            raise DeployError(f"endpoint {described.get('EndpointName')} was not InService within {timeout:g} s")
        sleep(poll)


__all__ = ["DEFAULT_REGION", "aws_error", "aws_errors", "aws_session", "ensure_bucket", "wait_for_endpoint"]
