"""The seed Job's command, arguments and environment per data mode; the masked-copy policy."""

from __future__ import annotations

from typing import Any

import pytest
from components.seed_job import MaskedCopyNotAllowed, random_seed

from components import ProjectDefaults, SeedContainerArgs, check_seed_policy, seed_container
from sandboxes.spec import SpecError, parse_spec

from .harness import PARENT_DB_URL, Rendered, base_spec, render

JOB = "kubernetes:batch/v1:Job"
SECRET = "kubernetes:core/v1:Secret"


def container(r: Rendered) -> dict[str, Any]:
    return r.named(JOB, "sandbox-abc123-seed").inputs["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize("data", ["blank", "preconfigured"])
def test_seed_without_parent(data: str) -> None:
    r = render(base_spec(data=data, modules=["msp", "cpo"], platform={"size": "medium"}))
    c = container(r)
    assert c["image"] == ProjectDefaults().seed_image
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["command"] == ["python3", "-m", "sandbox_seed", "run"]
    assert c["args"] == ["--mode", data, "--modules", "cpo,msp", "--size", "medium",
                         "--random-seed", str(random_seed("sandbox-abc123"))]
    env = {e["name"]: e for e in c["env"]}
    assert set(env) == {"DATABASE_URL", "SANDBOX_SLUG", "SEED_MASKED_COPY_ALLOWED", "SEED_CONNECT_TIMEOUT"}
    assert env["DATABASE_URL"]["valueFrom"] == {"secretKeyRef": {"name": "sandbox-abc123-db", "key": "url"}}
    assert env["SANDBOX_SLUG"]["value"] == "sandbox-abc123"
    assert env["SEED_MASKED_COPY_ALLOWED"]["value"] == "false"
    assert env["SEED_CONNECT_TIMEOUT"]["value"] == "120"
    assert not r.of_type("pulumi:pulumi:StackReference")
    job = r.named(JOB, "sandbox-abc123-seed")
    assert job.labels["app.kubernetes.io/component"] == "seed"
    assert job.inputs["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "seed"
    assert job.inputs["spec"]["backoffLimit"] <= 3
    assert job.inputs["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert c["securityContext"]["allowPrivilegeEscalation"] is False


def test_copy_reads_the_parent_stack_into_a_secret() -> None:
    r = render(base_spec(data="copy", parent="sandbox-parent", modules=["cpo"]))
    ref = r.one("pulumi:pulumi:StackReference")
    assert ref.inputs["name"] == "organization/sandboxes/sandbox-parent"
    parent_secret = r.named(SECRET, "sandbox-abc123-parent-db")
    assert parent_secret.inputs["stringData"] == {"url": PARENT_DB_URL}
    assert "stringData" in parent_secret.secret_inputs
    c = container(r)
    assert c["args"][:4] == ["--mode", "copy", "--modules", "cpo"]
    env = {e["name"]: e for e in c["env"]}
    assert env["PARENT_DATABASE_URL"]["valueFrom"] == {
        "secretKeyRef": {"name": "sandbox-abc123-parent-db", "key": "url"}}


def test_masked_copy_refused_unless_the_policy_allows_it() -> None:
    spec = parse_spec(base_spec(data="masked-copy", parent="sandbox-parent"))
    with pytest.raises(MaskedCopyNotAllowed, match="allowMaskedCopy"):
        check_seed_policy(spec, ProjectDefaults())
    check_seed_policy(spec, ProjectDefaults(allow_masked_copy=True))
    r = render(spec, ProjectDefaults(allow_masked_copy=True))
    env = {e["name"]: e for e in container(r)["env"]}
    assert env["SEED_MASKED_COPY_ALLOWED"]["value"] == "true"
    assert env["PARENT_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "sandbox-abc123-parent-db"
    assert container(r)["args"][1] == "masked-copy"
    assert r.one("pulumi:pulumi:StackReference").inputs["name"] == "organization/sandboxes/sandbox-parent"


def test_masked_copy_needs_a_parent() -> None:
    with pytest.raises(SpecError, match="set 'parent'"):
        parse_spec(base_spec(data="masked-copy"))


def test_seed_container_is_pure_and_matches_the_cli_contract() -> None:
    args = SeedContainerArgs(slug="sandbox-abc123", mode="copy", modules=("msp", "cpo"), size="small",
                             masked_copy_allowed=False, database_secret="db", parent_database_secret="pdb",
                             reset=True)
    out = seed_container(args)
    assert out == seed_container(args)
    assert out["command"] == ["python3", "-m", "sandbox_seed", "run"]
    assert out["args"] == ["--mode", "copy", "--modules", "cpo,msp", "--size", "small",
                           "--random-seed", str(random_seed("sandbox-abc123")), "--reset"]
    assert [e["name"] for e in out["env"]] == ["DATABASE_URL", "PARENT_DATABASE_URL", "SANDBOX_SLUG",
                                               "SEED_MASKED_COPY_ALLOWED", "SEED_CONNECT_TIMEOUT"]


def test_data_generation_adds_a_reset_generation_only_when_bumped() -> None:
    """Generation 0 keeps the Job of existing sandboxes as it was; a bump changes it, so the engine replaces it."""
    def job_args(**spec: Any) -> list[str]:
        r = render(base_spec(data="preconfigured", **spec))
        return list(r.one("kubernetes:batch/v1:Job").inputs["spec"]["template"]["spec"]["containers"][0]["args"])

    assert "--reset-generation" not in job_args()
    bumped = job_args(data_generation=2)
    assert bumped[bumped.index("--reset-generation") + 1] == "2" and "--reset" not in bumped


def test_random_seed_is_deterministic_per_slug() -> None:
    assert random_seed("sandbox-abc123") == random_seed("sandbox-abc123")
    assert random_seed("sandbox-abc123") != random_seed("sandbox-abc124")
    assert 0 <= random_seed("sandbox-zzzzzz") < 2**31
