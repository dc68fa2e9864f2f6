"""Checks of the deployment files that cannot be run here (Docker, ECS, IAM).

They keep the files consistent with each other and with the installed
Dagster: the configs validate against Dagster's own schemas, the compose
services get every variable the configs read, and the IAM policy grants the
lake prefix and the alert topic, nothing more.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from dagster._config import process_config
from dagster._config.field_utils import convert_potential_field
from dagster._core.instance.config import dagster_instance_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PG_VARS = {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD"}


def _env_vars(path: Path) -> set[str]:
    """Variables a Dagster YAML reads through ``{env: NAME}``."""
    return set(re.findall(r"\{env: (\w+)\}", path.read_text()))


def _validate(schema: dict, config: dict) -> None:
    result = process_config(convert_potential_field(schema).config_type, config)
    assert result.success, [e.message for e in result.errors or []]


@pytest.fixture
def pg_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*PG_VARS, "DAGSTER_PG_DB"]:
        monkeypatch.setenv(name, "5432" if name.endswith("PORT") else "x")


@pytest.mark.parametrize("folder", [DEPLOY, DEPLOY / "ecs"])
def test_instance_configs_match_dagsters_schema(folder: Path, pg_env: None) -> None:
    config, _ = dagster_instance_config(str(folder))
    assert set(config["storage"]) == {"postgres"}
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["run_retries"]["enabled"] and config["run_monitoring"]["enabled"]
    assert config["freshness"]["enabled"]


def test_the_ecs_variant_differs_only_by_launcher_and_compute_logs(
    pg_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_aws.ecs import EcsRunLauncher
    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager

    base = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    ecs = yaml.safe_load((DEPLOY / "ecs" / "dagster.yaml").read_text())
    assert {k: v for k, v in ecs.items() if k not in ("run_launcher", "compute_logs")} == {
        k: v for k, v in base.items() if k != "run_launcher"
    }
    for name in ("ELEX_RUN_TASK_DEFINITION", "ELEX_ECS_CLUSTER", "ELEX_COMPUTE_LOGS_BUCKET"):
        monkeypatch.setenv(name, "x")
    assert ecs["run_launcher"]["class"] == "EcsRunLauncher"
    _validate(EcsRunLauncher.config_type(), ecs["run_launcher"]["config"])
    _validate(S3ComputeLogManager.config_type(), ecs["compute_logs"]["config"])
    # The password never travels as a plain task environment variable.
    assert "DAGSTER_PG_PASSWORD" not in ecs["run_launcher"]["config"]["env_vars"]


def test_compose_gives_every_dagster_process_what_the_configs_read() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())
    example = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    needed = _env_vars(DEPLOY / "dagster.yaml") | _env_vars(DEPLOY / "workspace.yaml")
    services = compose["services"]
    assert set(services) == {"postgres", "code", "webserver", "daemon"}
    for name in ("code", "webserver", "daemon"):
        service = services[name]
        assert service["env_file"] == ".env"
        provided = example | set(service.get("environment", {}))
        assert needed <= provided, f"{name} lacks {needed - provided}"
    for name in ("webserver", "daemon"):
        # The workspace the Dockerfile copies into DAGSTER_HOME.
        assert "-w /opt/dagster/dagster_home/workspace.yaml" in services[name]["command"]
    assert (
        "COPY deploy/dagster.yaml deploy/workspace.yaml $DAGSTER_HOME/"
        in (DEPLOY / "Dockerfile").read_text()
    )
    assert "uv sync --frozen" in (DEPLOY / "Dockerfile").read_text()


def test_iam_policy_grants_the_lake_prefix_and_the_alert_topic_only() -> None:
    policy = json.loads((DEPLOY / "iam-policy.json").read_text())
    allowed = {
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "sns:Publish",
    }
    granted = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        granted |= set(actions)
        for resource in resources:
            assert resource != "*" and not resource.endswith(":*"), resource
        if actions == ["s3:ListBucket"]:
            assert resources == ["arn:aws:s3:::my-elex-bucket"]
            assert statement["Condition"]["StringLike"]["s3:prefix"] == ["elex", "elex/*"]
        elif all(a.startswith("s3:") for a in actions):
            assert resources == ["arn:aws:s3:::my-elex-bucket/elex/*"]
        else:
            assert actions == ["sns:Publish"] and resources[0].startswith("arn:aws:sns:")
    assert granted == allowed
