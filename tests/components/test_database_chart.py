"""The database component and our PostgreSQL chart.

Helm is not installed and Helm v4 ``Chart`` children are not expanded under mocks, so
the chart is checked here as files (they parse, every value the component sets is
used by a template, the restricted-profile settings are in the StatefulSet); the real
rendering is exercised by the engine test on the embedded cluster.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from components.database import CHART_PATH, chart_values
from components.sizes import SIZE_PRESETS

from components import ProjectDefaults
from sandboxes.spec import Size, parse_spec

from .harness import base_spec, render

CHART = "kubernetes:helm.sh/v4:Chart"
TEMPLATES = CHART_PATH / "templates"


def template_text() -> str:
    return "\n".join(p.read_text() for p in sorted(TEMPLATES.iterdir()))


def test_chart_files_parse() -> None:
    meta = yaml.safe_load((CHART_PATH / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2" and meta["name"] == "postgresql"
    assert isinstance(yaml.safe_load((CHART_PATH / "values.yaml").read_text()), dict)
    for path in TEMPLATES.glob("*.yaml"):
        # Template directives aside, the documents must be YAML-shaped: strip {{ }} and parse.
        text = re.sub(r"(?m)^\s*\{\{-?[^}]*(with|end|if|else|\$)[^}]*\}\}\s*$\n?", "", path.read_text())
        stripped = re.sub(r"\{\{-?.*?-?\}\}", "x", text)
        for doc in yaml.safe_load_all(stripped):
            assert doc is None or "kind" in doc, path


def test_every_value_the_component_sets_is_used_by_a_template() -> None:
    values = chart_values(parse_spec(base_spec()), ProjectDefaults(), "sandbox-abc123-db")
    text = template_text()
    defaults = yaml.safe_load((CHART_PATH / "values.yaml").read_text())
    for key in values:
        assert f".Values.{key}" in text, f"value {key!r} is set but no template reads it"
        assert key in defaults, f"value {key!r} has no default in values.yaml"


def test_chart_values_are_wired_from_spec_and_defaults() -> None:
    defaults = ProjectDefaults(postgres_image="localhost/pg:15", node_selector={"k": "v"})
    values = chart_values(parse_spec(base_spec(platform={"size": "large"})), defaults, "s")
    assert values["fullname"] == "sandbox-abc123-db"
    assert values["image"] == "localhost/pg:15"
    assert values["imagePullPolicy"] == "IfNotPresent"
    assert values["existingSecret"] == "s"
    assert values["storage"] == {"size": SIZE_PRESETS[Size.LARGE].db_volume}
    assert values["nodeSelector"] == {"k": "v"}
    assert values["labels"]["sandboxes.io/slug"] == "sandbox-abc123"
    assert values["selectorLabels"] == {"app.kubernetes.io/instance": "sandbox-abc123",
                                        "app.kubernetes.io/component": "database"}


def test_statefulset_template_is_restricted_and_probed() -> None:
    text = (TEMPLATES / "statefulset.yaml").read_text()
    for needle in ("kind: StatefulSet", "volumeClaimTemplates:", "runAsNonRoot: true", "type: RuntimeDefault",
                   "allowPrivilegeEscalation: false", 'drop: ["ALL"]', "pg_isready", "fsGroup:",
                   "secretKeyRef:", "PGDATA", ".Values.pgdataSubPath", "imagePullPolicy"):
        assert needle in text, needle
    services = (TEMPLATES / "services.yaml").read_text()
    assert "clusterIP: None" in services and "type: ClusterIP" in services


def test_database_component_deploys_our_chart_with_a_secret_password() -> None:
    r = render(base_spec())
    chart = r.one(CHART)
    assert Path(chart.inputs["chart"]).is_absolute()
    assert Path(chart.inputs["chart"]) == CHART_PATH
    assert chart.inputs["name"] == "sandbox-abc123-db"
    assert chart.inputs["namespace"] == "sandbox-abc123"
    assert chart.inputs["values"]["existingSecret"] == "sandbox-abc123-db"
    secret = r.named("kubernetes:core/v1:Secret", "sandbox-abc123-db")
    assert "stringData" in secret.secret_inputs
    data = secret.inputs["stringData"]
    pw = data["password"]
    assert data["url"] == f"postgresql://sandbox:{pw}@sandbox-abc123-db.sandbox-abc123.svc.cluster.local:5432/sandbox"
    password = [p for p in r.of_type("random:index/randomPassword:RandomPassword") if "database" in p.name]
    assert password and password[0].inputs["special"] is False


def test_map_values_the_component_sets_default_to_empty() -> None:
    """Helm deep-merges given maps into the defaults: a default key would leak into labels or selectors."""
    values = chart_values(parse_spec(base_spec()), ProjectDefaults(), "s")
    defaults = yaml.safe_load((CHART_PATH / "values.yaml").read_text())
    for key, value in values.items():
        if isinstance(value, dict) and key != "storage":
            assert defaults[key] == {}, f"values.yaml sets default keys under {key!r}"
