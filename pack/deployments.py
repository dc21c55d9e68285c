"""MLflow's ``mlflow.deployments`` names: ``get_deploy_client(target_uri)`` and the client interface.

```python
from pack.deployments import get_deploy_client

client = get_deploy_client("docker")
client.create_deployment("rf", "models:/RandomForestClassifier/Production")
client.predict("rf", frame)
```
"""

from __future__ import annotations

from pack.deploy.base import BaseDeploymentClient, DeployedModel, Deployment
from pack.deploy.targets import available_targets, get_deploy_client, target_help

__all__ = [
    "BaseDeploymentClient",
    "DeployedModel",
    "Deployment",
    "available_targets",
    "get_deploy_client",
    "target_help",
]
