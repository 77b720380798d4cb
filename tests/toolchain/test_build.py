"""How a component is obtained: cached stamp, compatible binary on PATH, or a logged build that names its failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandboxes.toolchain.build import BuildContext, Component, ToolchainError, obtain, same_minor
from sandboxes.toolchain.pins import load_pins


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SANDBOXES_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _ctx(tmp_path: Path) -> BuildContext:
    log = tmp_path / "build.log"
    log.touch()
    return BuildContext(pins=load_pins(), log_path=log)


def _writes_binary(ctx: BuildContext, out: Path) -> None:
    ctx.run(["sh", "-c", f"printf '#!/bin/sh\\necho v9.9.9\\n' > {out / 'tool'} && chmod +x {out / 'tool'}"])


def test_build_then_cached(cache: Path, tmp_path: Path) -> None:
    calls: list[Path] = []

    def recipe(ctx: BuildContext, out: Path) -> None:
        calls.append(out)
        _writes_binary(ctx, out)

    component = Component("tool", "1.0.0", ("tool",), recipe)
    first = obtain(component, _ctx(tmp_path))
    assert first.source == "built" and len(calls) == 1
    assert (cache / "bin" / "tool").resolve() == cache / "tools" / "tool" / "1.0.0" / "tool"
    second = obtain(component, _ctx(tmp_path))
    assert second.source == "cached" and len(calls) == 1


def test_a_failed_build_names_component_command_and_log(cache: Path, tmp_path: Path) -> None:
    def recipe(ctx: BuildContext, out: Path) -> None:
        ctx.run(["sh", "-c", "echo compiling; echo 'boom: missing module' >&2; exit 3"])

    ctx = _ctx(tmp_path)
    with pytest.raises(ToolchainError) as info:
        obtain(Component("broken", "1.0.0", ("broken",), recipe), ctx)
    message = str(info.value)
    assert "'broken'" in message and "exit 3" in message and "boom: missing module" in message
    assert str(ctx.log_path) in message and "sh -c" in message
    assert "compiling" in ctx.log_path.read_text()  # the full output is in the log
    assert not (cache / "tools" / "broken" / "1.0.0" / ".complete").exists()


def test_a_compatible_installed_binary_is_used(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = tmp_path / "usr-bin"
    installed.mkdir()
    tool = installed / "kube-tool"
    tool.write_text("#!/bin/sh\necho 'Kubernetes v1.34.9'\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{installed}:/usr/bin:/bin")

    def never(ctx: BuildContext, out: Path) -> None:
        raise AssertionError("must not build")

    outcome = obtain(Component("kube-tool", "1.34.4", ("kube-tool",), never, compatible=same_minor("1.34.4")),
                     _ctx(tmp_path))
    assert outcome.source == "system"
    assert (cache / "bin" / "kube-tool").resolve() == tool


def test_an_incompatible_installed_binary_is_not_used(cache: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    installed = tmp_path / "usr-bin"
    installed.mkdir()
    (installed / "tool").write_text("#!/bin/sh\necho 'v1.32.0'\n")
    (installed / "tool").chmod(0o755)
    monkeypatch.setenv("PATH", f"{installed}:/usr/bin:/bin")
    outcome = obtain(Component("tool", "1.34.4", ("tool",), _writes_binary, compatible=same_minor("1.34.4")),
                     _ctx(tmp_path))
    assert outcome.source == "built"


def test_a_provider_already_in_the_plugin_cache_is_not_built(cache: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from sandboxes.toolchain.build import in_plugin_cache

    home = tmp_path / "pulumi-home"
    plugin = home / "plugins" / "resource-kubernetes-v4.24.0" / "pulumi-resource-kubernetes"
    plugin.parent.mkdir(parents=True)
    plugin.write_text("#!/bin/sh\n")
    monkeypatch.setenv("PULUMI_HOME", str(home))

    def never(ctx: BuildContext, out: Path) -> None:
        raise AssertionError("must not build")

    component = Component("pulumi-resource-kubernetes", "4.24.0", ("pulumi-resource-kubernetes",), never,
                          expose=False, installed=in_plugin_cache("kubernetes", "4.24.0"))
    outcome = obtain(component, _ctx(tmp_path))
    assert outcome.source == "system" and outcome.paths["pulumi-resource-kubernetes"] == plugin
    assert not (cache / "bin" / "pulumi-resource-kubernetes").exists()  # plugins stay off PATH
