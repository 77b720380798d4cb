"""A stack whose parent sandbox does not exist fails with the reason, and nothing reaches the cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from sandboxes import stackfiles
from sandboxes.engine import Engine, EngineFailed
from sandboxes.spec import new_slug, parse_spec
from tests.fixtures.cluster import KubeCluster

pytestmark = pytest.mark.engine


def test_missing_parent_stops_before_any_object(tmp_path: Path, kube_cluster: KubeCluster,
                                                pulumi_workspace_env: dict[str, str]) -> None:
    slug, ghost = new_slug(), new_slug()
    spec = parse_spec({"slug": slug, "name": "Orphan", "provider_id": "acme", "modules": ["cpo"], "data": "copy",
                       "parent": ghost})
    engine = Engine(stacks_dir=tmp_path)
    stackfiles.write(tmp_path, spec)
    with pytest.raises(EngineFailed) as info:
        engine.up(slug)
    assert ghost in str(info.value) or ghost in info.value.detail
    core = client.CoreV1Api(kube_cluster.api_client())
    assert slug not in {ns.metadata.name for ns in core.list_namespace().items}
    engine.destroy(slug)
