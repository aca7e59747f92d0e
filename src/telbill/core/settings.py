"""Configuration: defaults, then a TOML config file, then TELBILL_* environment variables.

The caller passes the environment in (defaulting to os.environ at the edge), so tests never
depend on the machine they run on.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from telbill.core.errors import ValidationFailed
from telbill.core.money import currency

DEFAULT_DATABASE_URL = "sqlite:///telbill.db"


@dataclass(frozen=True)
class Seller:
    """The operator's legal identity, printed on every invoice."""

    name: str = "telbill Demo Telecom SAS"
    vat_number: str = "FR40303265045"
    siren: str = "303265045"
    address: str = "1 rue de la Paix"
    city: str = "Paris"
    postcode: str = "75002"
    country: str = "FR"
    # The currency of the seller's VAT returns (EN 16931 BT-6): an invoice in another currency also
    # states its VAT total in this one (BT-111), at the rate in force on its issue date.
    accounting_currency: str = "EUR"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    backdate_limit_days: int = 90
    default_timezone: str = "Europe/Paris"
    data_dir: str = "var"
    clock: str | None = None  # name of a test clock to act in; None = system clock
    seller: Seller = field(default_factory=Seller)


_INT_KEYS = {"backdate_limit_days"}


def load_settings(env: Mapping[str, str] | None = None, config_path: Path | None = None) -> Settings:
    env = os.environ if env is None else env
    settings = Settings()
    path = config_path or (Path(env["TELBILL_CONFIG"]) if env.get("TELBILL_CONFIG") else Path("telbill.toml"))
    if path.is_file():
        settings = _apply_file(settings, path)
    elif config_path is not None or env.get("TELBILL_CONFIG"):
        raise ValidationFailed(f"config file {path} does not exist")
    overrides: dict[str, object] = {}
    for f in fields(Settings):
        key = f"TELBILL_{f.name.upper()}"
        if key in env and f.name != "seller":
            overrides[f.name] = _coerce(f.name, env[key], key)
    return replace(settings, **overrides)


def _coerce(name: str, raw: object, where: str) -> object:
    if name in _INT_KEYS:
        try:
            return int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationFailed(f"{where}: {name} must be an integer, got {raw!r}") from None
    if not isinstance(raw, str):
        raise ValidationFailed(f"{where}: {name} must be a string, got {raw!r}")
    return raw


def _apply_file(settings: Settings, path: Path) -> Settings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"{path}: not valid TOML: {exc}") from None
    known = {f.name for f in fields(Settings)}
    unknown = set(data) - known
    if unknown:
        raise ValidationFailed(f"{path}: unknown settings {sorted(unknown)}; known: {sorted(known)}")
    values: dict[str, object] = {}
    for key, raw in data.items():
        if key == "seller":
            seller_known = {f.name for f in fields(Seller)}
            if not isinstance(raw, dict) or set(raw) - seller_known:
                raise ValidationFailed(f"{path}: [seller] accepts only {sorted(seller_known)}")
            values["seller"] = replace(settings.seller, **raw)
            currency(values["seller"].accounting_currency)  # type: ignore[attr-defined]  # an ISO 4217 code
        else:
            values[key] = _coerce(key, raw, str(path))
    return replace(settings, **values)
