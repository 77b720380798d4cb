"""The spec model: valid requests pass, every invalid one says which field and what to fix."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandboxes.spec import (
    INTEGRATIONS,
    SLUG_ALPHABET,
    DataMode,
    SpecError,
    is_valid_slug,
    new_slug,
    parse_spec,
    spec_hash,
)


def base(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"slug": "sandbox-a34g56", "name": "API Integration Test", "provider_id": "acme",
                            "modules": ["cpo"], "data": "blank"}
    data.update(overrides)
    return data


def problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        parse_spec(data)
    return info.value.problems


def test_minimal_spec_gets_defaults() -> None:
    spec = parse_spec(base())
    assert spec.modules == ["cpo"]
    assert spec.settings.look_and_feel.show_sandbox_banner is True
    assert spec.platform.size == "small"
    assert not any(getattr(spec.integrations, name) for name in INTEGRATIONS)
    assert spec.devices_enabled is False


def test_preconfigured_enables_devices_by_default() -> None:
    assert parse_spec(base(data="preconfigured")).devices_enabled is True
    assert parse_spec(base(data="preconfigured", devices={"enabled": False})).devices_enabled is False


def test_modules_are_sorted_and_unique() -> None:
    assert parse_spec(base(modules=["msp", "cpo"])).modules == ["cpo", "msp"]
    [(field, message)] = problems(base(modules=["msp", "msp"]))
    assert field == "modules" and "once" in message


@pytest.mark.parametrize("slug", ["sandbox-A34G56", "sandbox-a34g5", "sbx-a34g56", "sandbox-a34g56x", "sandbox_a34g56"])
def test_bad_slugs_are_explained(slug: str) -> None:
    [(field, message)] = problems(base(slug=slug))
    assert field == "slug"
    assert "'sandbox-' followed by 6 lowercase letters or digits" in message


def test_unknown_fields_are_rejected_not_dropped() -> None:
    [(field, message)] = problems(base(colour="red"))
    assert field == "colour" and "unknown field" in message
    [(field, _)] = problems(base(settings={"look_and_feel": {"banner": False}}))
    assert field == "settings.look_and_feel.banner"


def test_bad_colour_names_the_field_and_format() -> None:
    [(field, message)] = problems(base(settings={"look_and_feel": {"light": {"primary": "blue"}}}))
    assert field == "settings.look_and_feel.light.primary"
    assert "#rrggbb" in message


def test_copy_requires_a_parent() -> None:
    [(_, message)] = problems(base(data="copy"))
    assert "set 'parent'" in message
    assert parse_spec(base(data="copy", parent="sandbox-parent")).parent == "sandbox-parent"


def test_a_sandbox_cannot_be_its_own_parent() -> None:
    [(_, message)] = problems(base(parent="sandbox-a34g56"))
    assert "its own parent" in message


@pytest.mark.parametrize("name", INTEGRATIONS)
def test_enabling_any_integration_is_refused(name: str) -> None:
    [(field, message)] = problems(base(integrations={name: True}))
    assert "permanently disabled" in message and name in message
    assert field == "integrations"


def test_visible_modules_must_be_chosen_modules() -> None:
    [(_, message)] = problems(base(settings={"product_selection": {"visible_modules": ["msp"]}}))
    assert "msp" in message and "choose among cpo" in message


def test_unknown_data_mode_lists_the_choices() -> None:
    [(field, message)] = problems(base(data="production"))
    assert field == "data" and "'blank'" in message and "'copy'" in message


def test_expiry_needs_a_time_zone() -> None:
    [(field, message)] = problems(base(platform={"expires_at": "2026-12-31T18:00:00"}))
    assert field == "platform.expires_at" and "time zone" in message


def test_not_a_mapping() -> None:
    [(_, message)] = problems(["not", "a", "mapping"])
    assert "mapping" in message


def test_spec_hash_is_stable_and_sensitive() -> None:
    a, b = parse_spec(base()), parse_spec(base())
    assert spec_hash(a) == spec_hash(b)
    changed = parse_spec(base(settings={"look_and_feel": {"show_sandbox_banner": False}}))
    assert spec_hash(changed) != spec_hash(a)


def test_round_trip_through_config_value() -> None:
    expiry = {"expires_at": "2030-01-01T00:00:00Z"}
    spec = parse_spec(base(data="preconfigured", modules=["msp", "cpo"], platform=expiry))
    assert parse_spec(spec.config_value()) == spec


@given(st.integers(min_value=0, max_value=200))
def test_new_slugs_are_valid(_: int) -> None:
    slug = new_slug()
    assert is_valid_slug(slug)
    assert set(slug.removeprefix("sandbox-")) <= set(SLUG_ALPHABET)


@given(st.text(max_size=100))
def test_names_are_bounded(name: str) -> None:
    try:
        spec = parse_spec(base(name=name))
    except SpecError as err:
        assert err.problems[0][0] == "name"
    else:
        assert 1 <= len(spec.name) <= 80


def test_data_modes() -> None:
    assert {m.value for m in DataMode} == {"blank", "preconfigured", "copy", "masked-copy"}
