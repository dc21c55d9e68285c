"""The ``sagemaker`` target: a model version on a SageMaker real-time endpoint, with boto3.

create   model.tar.gz to S3, CreateModel (the image of ``-C image_uri=``, or the SageMaker image built
         and pushed to ``-C registry=``), CreateEndpointConfig, CreateEndpoint, then wait for InService
update   a new model and endpoint config, UpdateEndpoint (blue/green: the new fleet takes the traffic
         once it is healthy, SageMaker rolls back by itself if it is not), wait, then remove the old model,
         config and tarball
delete   the endpoint, its configs' models, the configs and the tarballs this target uploaded
list/get endpoints tagged ``pack.deployment.name``; the model version is read from the model's tags
predict  ``sagemaker-runtime`` InvokeEndpoint with MLflow's JSON body

Target URI: ``sagemaker`` or ``sagemaker:/REGION``. The request bodies are ``pack build-sagemaker``'s.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pack.builders.base import ModelSource, ProgressCallback
from pack.builders.output import write_tar_gz
from pack.builders.sagemaker import SageMakerOptions, api_requests
from pack.builders.settings import BuildSettings
from pack.deploy.aws import aws_error, aws_errors, aws_session, ensure_bucket, wait_for_endpoint
from pack.deploy.base import BaseDeploymentClient, DeployedModel, Deployment, check_flavor, check_name
from pack.deploy.images import SAGEMAKER, ImageRequest, ensure_image
from pack.deploy.options import option, options_help, parse_options
from pack.deploy.sagemaker_resources import (
    EndpointResources,
    endpoint_resources,
    find_endpoint,
    found_endpoint,
    running_model,
    tag_map,
    tags_of,
)
from pack.deploy.scoring import read_answer, scoring_body
from pack.deploy.source import resolve_source
from pack.errors import AlreadyExists, DeployError, InvalidInput

TARGET = "sagemaker"
DEPLOYMENT_TAG = "pack.deployment.name"


@dataclass(frozen=True)
class SageMakerDeployOptions:
    """``-C`` keys of the sagemaker target."""

    region_name: str | None = option(None, "AWS region (default: the target URI's, else the configured one)")
    execution_role_arn: str | None = option(None, "IAM role SageMaker runs the model with (required to create)")
    bucket: str | None = option(None, "S3 bucket for model.tar.gz (default pack-sagemaker-<region>-<account>)")
    image_uri: str | None = option(None, "the serving image in ECR (else built and pushed to registry)")
    registry: str | None = option(None, "repository prefix to push the built image to (e.g. ACCOUNT.dkr.ecr...)")
    base_image: str | None = option(None, "base of a built image (default python:<model's major.minor>-slim)")
    safe_only: bool = option(False, "a built image refuses executable model content (checked at build)")
    instance_type: str = option("ml.m5.large", "instance type")
    instance_count: int = option(1, "instances")
    timeout: float = option(1200.0, "seconds to wait for InService")
    poll: float = option(10.0, "seconds between two status reads")


def target_help() -> str:
    """Help for ``pack deployments help -t sagemaker``."""
    return (
        "sagemaker[:/REGION]: a SageMaker real-time endpoint (AWS credentials from boto3's usual chain).\n"
        "create uploads model.tar.gz, creates the model, endpoint config and endpoint and waits for InService; "
        "update replaces them blue/green; delete removes every resource it made.\n"
        "Config keys (-C key=value):\n" + options_help(SageMakerDeployOptions)
    )


class SageMakerDeploymentClient(BaseDeploymentClient):
    """Deployments on Amazon SageMaker real-time endpoints."""

    def __init__(
        self,
        target_uri: str = TARGET,
        progress: ProgressCallback | None = None,
        build_settings: BuildSettings | None = None,
    ) -> None:
        super().__init__(target_uri, progress)
        self.cache_dir = (build_settings or BuildSettings()).cache_dir
        suffix = target_uri.split(":", 1)[1].strip("/") if ":" in target_uri else ""
        self.region = suffix or None

    # ---- create / update / delete ------------------------------------------------------------

    def create_deployment(
        self,
        name: str,
        model_uri: str,
        flavor: str | None = None,
        config: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> Deployment:
        check_flavor(flavor)
        options = self._options(config)
        check_name(name)
        if not options.execution_role_arn:
            raise InvalidInput("SageMaker needs a role to run the model: pass -C execution_role_arn=arn:aws:iam::...")
        aws = aws_session(options.region_name or self.region)
        sm = aws.client("sagemaker")
        if find_endpoint(sm, name) is not None:
            raise AlreadyExists(f"endpoint {name!r} already exists in {aws.region_name} (update or delete it)")
        source = resolve_source(model_uri)
        image = self._image(source, options)
        made = EndpointResources()
        try:
            config_name = self._model_and_config(aws, name, source, image=image, options=options, made=made)
            tags = tags_of({DEPLOYMENT_TAG: name, **DeployedModel.of(source).labels()})
            self._report(f"creating endpoint {name}")
            with aws_errors(f"cannot create endpoint {name}"):
                sm.create_endpoint(EndpointName=name, EndpointConfigName=config_name, Tags=tags)
            made.endpoint = name
            self._wait(sm, name, options)
        except KeyboardInterrupt:
            raise  # the endpoint goes on being created; it is listed, and delete removes it
        except Exception:
            made.remove(aws, self._report)  # a failed create leaves nothing behind
            raise
        return self.get_deployment(name, endpoint)

    def update_deployment(
        self,
        name: str,
        model_uri: str | None = None,
        flavor: str | None = None,
        config: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> Deployment:
        check_flavor(flavor)
        options = self._options(config)
        aws = aws_session(options.region_name or self.region)
        sm = aws.client("sagemaker")
        old = endpoint_resources(sm, found_endpoint(sm, name))
        current = old.models[0] if old.models else {}
        role = options.execution_role_arn or current.get("ExecutionRoleArn")
        options = parse_options(SageMakerDeployOptions, {**dict(config or {}), "execution_role_arn": role}, TARGET)
        data_url: str | None = None
        if model_uri is not None:
            source = resolve_source(model_uri)
            image = self._image(source, options)
        elif current:
            source, image, data_url = running_model(sm, current)
        else:
            raise InvalidInput(f"endpoint {name!r} runs no model pack made: pass a model URI")
        made = EndpointResources()
        try:
            config_name = self._model_and_config(
                aws, name, source, image=image, options=options, made=made, data_url=data_url
            )
            self._report(f"updating endpoint {name} (blue/green: the new fleet takes the traffic once healthy)")
            with aws_errors(f"cannot update endpoint {name}"):
                sm.update_endpoint(
                    EndpointName=name,
                    EndpointConfigName=config_name,
                    DeploymentConfig={
                        "BlueGreenUpdatePolicy": {
                            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                            "TerminationWaitInSeconds": 0,
                        }
                    },
                )
            described = self._wait(sm, name, options)
            if described.get("EndpointConfigName") != config_name:  # SageMaker rolled the update back
                raise DeployError(f"the update of {name} was rolled back: {described.get('FailureReason')}")
        except KeyboardInterrupt:
            raise
        except Exception:
            made.remove(aws, self._report)
            raise
        old.endpoint = None  # the endpoint stays; what it ran before goes (a tarball still in use stays)
        old.objects = [url for url in old.objects if url != data_url]
        old.remove(aws, self._report)
        return self.get_deployment(name, endpoint)

    def delete_deployment(
        self, name: str, config: Mapping[str, Any] | None = None, endpoint: str | None = None
    ) -> None:
        options = self._options(config)
        aws = aws_session(options.region_name or self.region)
        sm = aws.client("sagemaker")
        endpoint_resources(sm, found_endpoint(sm, name)).remove(aws, self._report)

    # ---- list / get / predict ----------------------------------------------------------------

    def list_deployments(self, endpoint: str | None = None) -> list[Deployment]:
        sm = aws_session(self.region).client("sagemaker")
        found = []
        with aws_errors("cannot list endpoints"):
            for page in sm.get_paginator("list_endpoints").paginate():
                for summary in page["Endpoints"]:
                    tags = tag_map(sm.list_tags(ResourceArn=summary["EndpointArn"])["Tags"])
                    if DEPLOYMENT_TAG in tags:
                        found.append(summary["EndpointName"])
        return [self.get_deployment(name) for name in found]

    def get_deployment(self, name: str, endpoint: str | None = None) -> Deployment:
        aws = aws_session(self.region)
        sm = aws.client("sagemaker")
        described = found_endpoint(sm, name)
        resources = endpoint_resources(sm, described)
        model = None
        if resources.models:
            with aws_errors(f"model {resources.models[0]['ModelName']}"):
                tags = tag_map(sm.list_tags(ResourceArn=resources.models[0]["ModelArn"])["Tags"])
            model = DeployedModel.from_labels(tags)
        status = str(described["EndpointStatus"])
        details = {
            "region": aws.region_name,
            "status": status,
            "endpoint_config": described.get("EndpointConfigName"),
            "models": [m["ModelName"] for m in resources.models],
            "image": resources.models[0]["PrimaryContainer"].get("Image") if resources.models else None,
            "failure_reason": described.get("FailureReason"),
        }
        state = {"InService": "ready", "Failed": "failed", "OutOfService": "stopped"}.get(status, status.lower())
        details["arn"] = described["EndpointArn"]
        url = f"https://runtime.sagemaker.{aws.region_name}.amazonaws.com/endpoints/{name}/invocations"
        return Deployment(name, TARGET, state, model, url, details)

    def predict(self, deployment_name: str | None = None, inputs: Any = None, endpoint: str | None = None) -> Any:
        if not deployment_name:
            raise InvalidInput("name the deployment to score")
        runtime = aws_session(self.region).client("sagemaker-runtime")
        body = scoring_body(inputs)
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"endpoint {deployment_name}"
        try:
            answer = runtime.invoke_endpoint(
                EndpointName=deployment_name, ContentType="application/json", Accept="application/json", Body=body
            )
        except ClientError as exc:
            status = int(exc.response.get("OriginalStatusCode") or 0)
            if status:  # the container answered with an error (ModelError): its own status and message
                return read_answer(status, str(exc.response.get("OriginalMessage") or "").encode(), where)
            raise aws_error(exc, where) from None
        except BotoCoreError as exc:
            raise aws_error(exc, where) from None
        return read_answer(200, answer["Body"].read(), where)

    # ---- helpers -------------------------------------------------------------------------------

    def _options(self, config: Mapping[str, Any] | None) -> SageMakerDeployOptions:
        return parse_options(SageMakerDeployOptions, config, TARGET)

    def _image(self, source: ModelSource, options: SageMakerDeployOptions) -> str:
        if options.image_uri:
            return options.image_uri
        if not options.registry:
            raise InvalidInput(
                "SageMaker needs an image in ECR: pass -C image_uri=URI, or -C registry=REPO to push one"
            )
        request = ImageRequest(
            SAGEMAKER, options.base_image, options.registry, self.cache_dir, safe_only=options.safe_only
        )
        return ensure_image(source, request, self.progress).reference

    def _model_and_config(
        self,
        aws: Any,
        name: str,
        source: ModelSource,
        *,
        image: str,
        options: SageMakerDeployOptions,
        made: EndpointResources,
        data_url: str | None = None,
    ) -> str:
        """Upload the model (unless ``data_url`` has it), create the model and an endpoint config."""
        sm = aws.client("sagemaker")
        revision = f"{name}-{uuid.uuid4().hex[:8]}"
        if data_url is None:
            bucket = ensure_bucket(aws, options.bucket)
            key = f"pack/{name}/{revision}/model.tar.gz"
            self._report(f"uploading model.tar.gz to s3://{bucket}/{key}")
            with tempfile.TemporaryDirectory(prefix="pack-sagemaker-") as tmp:
                write_tar_gz(source.path, Path(tmp) / "model.tar.gz")
                with aws_errors(f"cannot upload to s3://{bucket}/{key}"):
                    aws.client("s3").upload_file(str(Path(tmp) / "model.tar.gz"), bucket, key)
            data_url = f"s3://{bucket}/{key}"
            made.objects.append(data_url)
        assert options.execution_role_arn is not None  # checked by the callers
        requests = api_requests(
            source,
            SageMakerOptions(
                image_uri=image,
                model_data_url=data_url,
                execution_role_arn=options.execution_role_arn,
                instance_type=options.instance_type,
                instance_count=options.instance_count,
            ),
        )
        model = {**requests["CreateModel"], "ModelName": revision}
        model["Tags"] = [*model["Tags"], *tags_of({DEPLOYMENT_TAG: name})]
        endpoint_config = {**requests["CreateEndpointConfig"], "EndpointConfigName": revision}
        endpoint_config["ProductionVariants"] = [
            {**variant, "ModelName": revision} for variant in endpoint_config["ProductionVariants"]
        ]
        self._report(f"creating model and endpoint config {revision}")
        with aws_errors(f"cannot create model {revision}"):
            sm.create_model(**model)
        made.models.append({"ModelName": revision})
        with aws_errors(f"cannot create endpoint config {revision}"):
            sm.create_endpoint_config(**endpoint_config)
        made.configs.append(revision)
        return revision

    def _wait(self, sm: Any, name: str, options: SageMakerDeployOptions) -> Mapping[str, Any]:
        def describe() -> Mapping[str, Any]:
            with aws_errors(f"endpoint {name}"):
                described: Mapping[str, Any] = sm.describe_endpoint(EndpointName=name)
            return described

        return wait_for_endpoint(describe, options.timeout, options.poll, self._report)


__all__ = ["SageMakerDeployOptions", "SageMakerDeploymentClient", "target_help"]
