"""``-C`` options and scoring bodies: typed, checked, and clear about what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pack.deploy.base import DeployedModel, Deployment, check_name
from pack.deploy.docker import DockerOptions
from pack.deploy.options import config_pairs, options_help, parse_options
from pack.deploy.scoring import read_answer, scoring_payload
from pack.errors import DeployError, InvalidInput


def test_strings_from_the_command_line_become_typed_values():
    options = parse_options(DockerOptions, {"workers": "2", "cpus": "1.5", "port": 9000, "image": ""}, "docker")
    assert (options.workers, options.cpus, options.port, options.image) == (2, 1.5, 9000, None)
    assert parse_options(DockerOptions, None, "docker") == DockerOptions()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"colour": "x", "size": "y"},
            "unknown config keys 'colour', 'size' for target 'docker' (valid: accelerate, base_image,",
        ),
        ({"workers": "two"}, "config workers='two': expected an integer"),
        ({"cpus": "lots"}, "config cpus='lots': expected a number"),
        ({"host": None}, "config host: a value is required"),
        ({"image": ["a"]}, "config image: expected a string, got list"),
    ],
)
def test_bad_options_say_what_is_wrong(config, message):
    with pytest.raises(InvalidInput) as error:
        parse_options(DockerOptions, config, "docker")
    assert str(error.value).startswith(message)


def test_booleans_and_pairs():
    from pack.deploy.kubernetes import KubernetesDeployOptions

    assert parse_options(KubernetesDeployOptions, {"rollback": "yes"}, "kubernetes").rollback is True
    with pytest.raises(InvalidInput, match="expected true or false"):
        parse_options(KubernetesDeployOptions, {"rollback": "maybe"}, "kubernetes")
    assert config_pairs(("a=1", "b=x=y", "c=")) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(InvalidInput, match="'=1' is not key=value"):
        config_pairs(("=1",))
    assert "  workers (default: 1): pack serve worker processes" in options_help(DockerOptions)


def test_names_every_target_can_carry():
    assert check_name("rf-2") == "rf-2"
    for bad in ("", "RF", "rf_2", "-rf", "rf-", "x" * 51, "rf.2"):
        with pytest.raises(InvalidInput):
            check_name(bad)


def test_scoring_payloads_follow_mlflow():
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]})
    assert scoring_payload(frame) == {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 0.5], [2, 1.5]]}}
    assert scoring_payload({"columns": ["a"], "data": [[1]]}) == {"dataframe_split": {"columns": ["a"], "data": [[1]]}}
    assert scoring_payload([{"a": 1}]) == {"dataframe_records": [{"a": 1}]}
    assert scoring_payload({"instances": [[1]]}) == {"instances": [[1]]}
    assert scoring_payload(np.ones((1, 2))) == {"inputs": [[1.0, 1.0]]}
    assert scoring_payload([[1, 2]]) == {"inputs": [[1, 2]]}
    with pytest.raises(InvalidInput, match="nothing to score"):
        scoring_payload(None)


def test_answers_and_errors():
    assert read_answer(200, b'{"predictions": [1]}', "x") == {"predictions": [1]}
    with pytest.raises(InvalidInput, match=r"x refused the input \(400\): Missing column 'a'"):
        read_answer(400, b'{"error_code": "BAD_REQUEST", "message": "Missing column \'a\'"}', "x")
    with pytest.raises(DeployError, match=r"x failed \(502\): upstream gone"):
        read_answer(502, b'{"error_code": "BAD_GATEWAY", "message": "upstream gone"}', "x")


def test_a_deployment_is_also_mlflows_dictionary():
    model = DeployedModel("rf", "2", "sha256:ab", "models:/rf/2")
    deployment = Deployment("rf", "docker", "ready", model, "http://127.0.0.1:5000", {"generation": 2})
    assert deployment["name"] == "rf" and deployment["model"]["version"] == "2"
    assert dict(deployment) == deployment.to_dict() and "endpoint" in deployment
    assert DeployedModel.from_labels(model.labels("pack.model/"), "pack.model/") == model
