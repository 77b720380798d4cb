"""``SandboxSpec``: the single, validated description of a sandbox.

Every interface (HTTP API, CLI, stack files in git, ``pulumi up`` by hand) turns its
input into this model once; everything downstream trusts it. It imports nothing else
of the project: it is the vocabulary the rest shares.

The spec carries no secrets. Passwords and API keys are made by the Pulumi program
(pulumi-random) and stay Pulumi secrets.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "SLUG_ALPHABET",
    "SLUG_PATTERN",
    "Access",
    "DataMode",
    "Devices",
    "Integrations",
    "Module",
    "Platform",
    "SandboxSettings",
    "SandboxSpec",
    "Size",
    "SpecError",
    "format_validation_error",
    "is_valid_slug",
    "new_slug",
    "parse_spec",
    "spec_hash",
]

SLUG_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
SLUG_PATTERN = r"^sandbox-[0-9a-z]{6}$"
_SLUG_RE = re.compile(SLUG_PATTERN)
_HEX_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_ID_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_SUBJECT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:/-]{0,252}$")
_DOMAIN_RE = re.compile(r"^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def new_slug() -> str:
    """A fresh slug (``sandbox-`` + 6 base-36 characters); uniqueness is the caller's check."""
    return "sandbox-" + "".join(secrets.choice(SLUG_ALPHABET) for _ in range(6))


def is_valid_slug(value: str) -> bool:
    return bool(_SLUG_RE.fullmatch(value))


def _slug(value: str) -> str:
    if not _SLUG_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a sandbox slug: expected 'sandbox-' followed by 6 lowercase letters or digits, "
            "e.g. 'sandbox-a34g56'"
        )
    return value


def _hex_colour(value: str) -> str:
    if not _HEX_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a hex colour: use '#rrggbb' or '#rgb', e.g. '#0057b8'")
    return value.lower()


def _identifier(value: str) -> str:
    if not _ID_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid id: use 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _subject(value: str) -> str:
    if not _SUBJECT_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid user or group name: use letters, digits and _.@:/-")
    return value


def _domain(value: str) -> str:
    if not _DOMAIN_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a DNS domain: use lowercase labels separated by dots, e.g. 'sandbox.example.com'"
        )
    return value


Slug = Annotated[str, AfterValidator(_slug)]
HexColour = Annotated[str, AfterValidator(_hex_colour)]
Identifier = Annotated[str, AfterValidator(_identifier)]
Subject = Annotated[str, AfterValidator(_subject)]
Domain = Annotated[str, AfterValidator(_domain)]
AssetRef = Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^(https?://|/|assets/)\S+$")]


class _Model(BaseModel):
    """Unknown fields are errors: a typo must never be silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Module(StrEnum):
    MSP = "msp"
    CPO = "cpo"


class DataMode(StrEnum):
    BLANK = "blank"
    PRECONFIGURED = "preconfigured"
    COPY = "copy"
    MASKED_COPY = "masked-copy"


class Size(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


# --- settings (seed 000, "Sandbox Settings") ----------------------------------------------


class Colours(_Model):
    primary: HexColour = "#0057b8"
    secondary: HexColour = "#00a3e0"


class LookAndFeel(_Model):
    logo_light: AssetRef | None = None
    logo_dark: AssetRef | None = None
    favicon: AssetRef | None = None
    light: Colours = Colours()
    dark: Colours = Colours(primary="#4da3ff", secondary="#7fd4f5")
    show_sandbox_banner: bool = True


class ProductSelection(_Model):
    """Which of the sandbox's modules appear in the menus (None: all of them)."""

    visible_modules: list[Module] | None = None


class PlatformAccess(_Model):
    self_sign_up: bool = False


class Support(_Model):
    company: str | None = Field(default=None, max_length=120)
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)] | None = None
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{4,32}$")] | None = None
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2048)] | None = None


class ChargeStationFeatures(_Model):
    advanced_tariffs: bool = False
    bulk_operations: bool = False
    custom_fees: bool = False


class ChargeCardFeatures(_Model):
    msp_limits: bool = False
    msp_fees: bool = False


class Billing(_Model):
    invoicing: bool = False


class SubOperator(_Model):
    name: str = Field(min_length=1, max_length=80)
    country_code: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    party_id: Annotated[str, Field(pattern=r"^[A-Z0-9]{3}$")]


class Roaming(_Model):
    sub_operators_enabled: bool = False
    sub_operators: list[SubOperator] = Field(default_factory=list, max_length=50)


class SandboxSettings(_Model):
    look_and_feel: LookAndFeel = LookAndFeel()
    product_selection: ProductSelection = ProductSelection()
    platform_access: PlatformAccess = PlatformAccess()
    support: Support = Support()
    charge_stations: ChargeStationFeatures = ChargeStationFeatures()
    charge_cards: ChargeCardFeatures = ChargeCardFeatures()
    billing: Billing = Billing()
    roaming: Roaming = Roaming()
    feature_toggles: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")], bool] = Field(
        default_factory=dict, max_length=100
    )


# --- integrations: permanently disabled ------------------------------------------------------

_DISABLED_WHY = (
    "external integrations are permanently disabled in a sandbox (seed 000: no production sync); "
    "remove 'integrations.{name}' or set it to false"
)

INTEGRATIONS: tuple[str, ...] = ("erp", "roaming_hubs", "payments", "email_sms", "webhooks", "telemetry")


class Integrations(_Model):
    """Every external integration the platform knows, each fixed to ``False``.

    The field exists so that a request to enable one is rejected with a reason instead of
    being dropped, and so that the workload's configuration lists them explicitly.
    """

    erp: bool = False
    roaming_hubs: bool = False
    payments: bool = False
    email_sms: bool = False
    webhooks: bool = False
    telemetry: bool = False

    @model_validator(mode="after")
    def _all_disabled(self) -> Integrations:
        for name in INTEGRATIONS:
            if getattr(self, name):
                raise ValueError(_DISABLED_WHY.format(name=name))
        return self


# --- access and platform ---------------------------------------------------------------------


class Access(_Model):
    """Extra groups and users granted access, beyond the owning provider's own group."""

    groups: list[Subject] = Field(default_factory=list, max_length=50)
    users: list[Subject] = Field(default_factory=list, max_length=200)


class Platform(_Model):
    """Where and how the sandbox runs; ``None`` means the project-wide default (project config)."""

    image: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$")] | None = None
    version: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")] | None = None
    base_domain: Domain | None = None
    ingress_class: Identifier | None = None
    tls: bool = False
    size: Size = Size.SMALL
    expires_at: datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("expires_at needs a time zone, e.g. '2026-12-31T18:00:00Z'")
        return value


class Devices(_Model):
    """Simulated devices (vehicles, batteries, solar inverters); default: on for preconfigured data."""

    enabled: bool | None = None


class SandboxSpec(_Model):
    slug: Slug
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=500)
    provider_id: Identifier | None = Field(
        default=None, description="owning production provider; None for a prospect sandbox (system admins only)"
    )
    live_provider_id: Identifier | None = Field(default=None, description="set by system admins only")
    parent: Slug | None = None
    modules: list[Module] = Field(min_length=1, max_length=2)
    data: DataMode = DataMode.BLANK
    data_generation: int = Field(
        default=0, ge=0, lt=2**31,
        description="bump it to wipe the sandbox's business data and seed it again from 'data' (once per value; "
        "e.g. to refresh a masked copy); 0 never resets",
    )
    settings: SandboxSettings = SandboxSettings()
    access: Access = Access()
    platform: Platform = Platform()
    integrations: Integrations = Integrations()
    devices: Devices = Devices()

    @field_validator("modules")
    @classmethod
    def _unique_modules(cls, value: list[Module]) -> list[Module]:
        if len(set(value)) != len(value):
            raise ValueError("list each module once: 'msp', 'cpo' or both")
        return sorted(value)

    @model_validator(mode="after")
    def _coherent(self) -> SandboxSpec:
        if self.data in (DataMode.COPY, DataMode.MASKED_COPY) and self.parent is None:
            raise ValueError(
                f"data {self.data.value!r} copies from the parent: set 'parent' to the slug of the sandbox to copy"
            )
        if self.parent is not None and self.parent == self.slug:
            raise ValueError("a sandbox cannot be its own parent: 'parent' must name another sandbox")
        visible = self.settings.product_selection.visible_modules
        if visible is not None and not set(visible) <= set(self.modules):
            extra = ", ".join(sorted(set(visible) - set(self.modules)))
            raise ValueError(
                f"settings.product_selection.visible_modules lists {extra}, which this sandbox does not have: "
                f"choose among {', '.join(self.modules)}"
            )
        return self

    @property
    def devices_enabled(self) -> bool:
        if self.devices.enabled is not None:
            return self.devices.enabled
        return self.data == DataMode.PRECONFIGURED

    def config_value(self) -> dict[str, Any]:
        """The JSON-ready value stored under ``sandbox:spec`` in the stack file."""
        return self.model_dump(mode="json", exclude_defaults=False)


class SpecError(ValueError):
    """A spec failed validation; ``problems`` lists (field path, what to fix)."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        lines = "; ".join(f"{path or '(spec)'}: {msg}" for path, msg in problems)
        super().__init__(f"{where}invalid sandbox spec: {lines}")


def format_validation_error(err: ValidationError) -> list[tuple[str, str]]:
    """Pydantic's errors as (dotted field path, message that says what to fix)."""
    problems = []
    for item in err.errors():
        path = ".".join(str(p) for p in item["loc"])
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            msg = "unknown field: remove it or check its spelling"
        elif item["type"] == "enum":
            expected = item.get("ctx", {}).get("expected", "")
            msg = f"unknown value {item.get('input')!r}: expected {expected}"
        problems.append((path, msg))
    return problems


def parse_spec(data: Any, source: str = "") -> SandboxSpec:
    """Validate raw data (from YAML, JSON or a request) into a spec, or raise ``SpecError``."""
    if not isinstance(data, dict):
        raise SpecError([("", f"expected a mapping of fields, got {type(data).__name__}")], source)
    try:
        return SandboxSpec.model_validate(data)
    except ValidationError as err:
        raise SpecError(format_validation_error(err), source) from None


def spec_hash(spec: SandboxSpec) -> str:
    """A stable digest of the spec: what the reconciler compares to skip unchanged sandboxes."""
    canonical = json.dumps(spec.config_value(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]

