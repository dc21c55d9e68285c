"""moto's server, plus SageMaker's UpdateEndpoint (moto 5 answers it with "not implemented").

UpdateEndpoint here does what AWS documents for an update that succeeds: the endpoint takes the new
config's variants and stays InService. Everything else is moto's own. Run as
``python -m tests.deploy.moto_server PORT``.
"""

from __future__ import annotations

import sys
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse


def update_endpoint(self: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str) -> FakeEndpoint:
    endpoint = self.endpoints.get(endpoint_name)
    if endpoint is None:
        arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    config = self.describe_endpoint_config(endpoint_config_name)
    endpoint.endpoint_config_name = endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(config["ProductionVariants"])
    endpoint.endpoint_status = "InService"
    endpoint.last_modified_time = utcnow()
    return endpoint


def update_endpoint_action(self: Any) -> ActionResult:
    endpoint = self.sagemaker_backend.update_endpoint(
        self._get_param("EndpointName"), self._get_param("EndpointConfigName")
    )
    return ActionResult({"EndpointArn": endpoint.arn})


SageMakerModelBackend.update_endpoint = update_endpoint  # type: ignore[attr-defined]
SageMakerResponse.update_endpoint = update_endpoint_action  # type: ignore[attr-defined]

if __name__ == "__main__":
    from moto.server import main

    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
