"""The program (``__main__.py``): config in, one Sandbox, outputs out; a bad spec stops it before any resource."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings
from pulumi.runtime.config import set_all_config

from sandboxes.spec import parse_spec, spec_hash

from .harness import RecordingMocks, base_spec

PROGRAM = Path(__file__).resolve().parents[2] / "__main__.py"


def run_program(
    config: dict[str, Any], stack: str = "sandbox-abc123", mocks: RecordingMocks | None = None
) -> tuple[RecordingMocks, dict[str, Any]]:
    mocks = mocks or RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="sandboxes", stack=stack, preview=False)
    set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
    exported: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> Any:
        runpy.run_path(str(PROGRAM), run_name="__main__")
        root = settings.get_root_resource()
        outputs = dict(root.outputs) if root is not None else {}

        async def collect() -> None:
            for key, value in outputs.items():
                out = pulumi.Output.from_input(value)
                exported[key] = (await out.future(), await out.is_secret())

        import asyncio

        return asyncio.ensure_future(collect())

    try:
        run()
    finally:
        set_all_config({})
    return mocks, exported


def test_program_exports() -> None:
    spec = base_spec(data="preconfigured")
    mocks, out = run_program({"sandbox:spec": spec, "sandbox:owner": "jane@acme.example"})
    assert out["url"] == ("http://sandbox-abc123.sandboxes.localhost", False)
    assert out["namespace"] == ("sandbox-abc123", False)
    assert out["database_secret_name"] == ("sandbox-abc123-db", False)
    assert out["seed_job_name"] == ("sandbox-abc123-seed", False)
    assert out["slug"] == ("sandbox-abc123", False)
    assert out["parent"] == (None, False)
    assert out["owner"] == ("jane@acme.example", False)
    assert out["spec_hash"] == (spec_hash(parse_spec(spec)), False)
    assert out["api_key_id"][0].startswith("sbx_") and out["api_key_id"][1] is False
    assert out["api_secret"][1] is True
    assert out["database_url"][1] is True
    assert out["database_url"][0].startswith("postgresql://sandbox:")
    assert any(r.type == "sandboxes:index:Sandbox" for r in mocks.registered)


def test_program_reads_project_defaults() -> None:
    mocks, out = run_program({
        "sandbox:spec": base_spec(),
        "sandboxes:baseDomain": "apps.test",
        "sandboxes:seedImage": "localhost/seed:2",
        "sandboxes:workloadNodeSelector": "sandboxes.io/node=real",
    })
    assert out["url"][0] == "http://sandbox-abc123.apps.test"
    job = next(r for r in mocks.registered if r.type == "kubernetes:batch/v1:Job")
    pod = job.inputs["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "localhost/seed:2"
    assert pod["nodeSelector"] == {"sandboxes.io/node": "real"}


@pytest.mark.parametrize(
    ("config", "stack", "message"),
    [
        ({"sandbox:spec": base_spec(modules=["payments"])}, "sandbox-abc123", "modules"),
        ({"sandbox:spec": base_spec(integrations={"erp": True})}, "sandbox-abc123", "permanently disabled"),
        ({"sandbox:spec": base_spec(data="copy")}, "sandbox-abc123", "parent"),
        ({"sandbox:spec": base_spec(colour="red")}, "sandbox-abc123", "unknown field"),
        ({"sandbox:spec": base_spec()}, "sandbox-zzz999", "slug"),
        ({"sandbox:spec": base_spec(data="masked-copy", parent="sandbox-p00001")}, "sandbox-abc123",
         "allowMaskedCopy"),
        ({"sandbox:spec": base_spec(data="masked-copy"), "sandboxes:allowMaskedCopy": "true"}, "sandbox-abc123",
         "set 'parent'"),
        ({"sandbox:spec": base_spec(), "sandboxes:workloadNodeSelector": "nonsense"}, "sandbox-abc123", "key=value"),
    ],
)
def test_bad_input_is_a_clear_error_before_any_resource(config: dict[str, Any], stack: str, message: str) -> None:
    mocks = RecordingMocks()
    with pytest.raises(pulumi.RunError, match=message):
        run_program(config, stack=stack, mocks=mocks)
    assert mocks.registered == [], "the program registered resources before refusing its input"


def test_spec_error_names_each_field() -> None:
    with pytest.raises(pulumi.RunError) as info:
        run_program({"sandbox:spec": base_spec(modules=[], data="bogus")})
    text = str(info.value)
    assert "invalid sandbox spec" in text and "modules" in text and "data" in text
    assert "stack sandbox-abc123 (sandbox:spec)" in text


def test_masked_copy_allowed_by_policy() -> None:
    _, out = run_program(
        {"sandbox:spec": base_spec(data="masked-copy", parent="sandbox-p00001"), "sandboxes:allowMaskedCopy": "true"}
    )
    assert out["slug"][0] == "sandbox-abc123"
