"""The whole catalog file: header, products, offers, rating section, and the checks across them."""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from telbill.catalog.charges import UsageCharge
from telbill.catalog.offers import Offer, OfferKind, Product
from telbill.catalog.tariffs import RatingCatalog
from telbill.catalog.types import Issue, Spec, rules_broken
from telbill.core.clock import zone
from telbill.core.errors import TelbillError


class CatalogHeader(Spec):
    """`timezone` is where bare `effective_from` dates start (at 00:00 there)."""

    name: str
    version: str | Annotated[int, Field(strict=True)] | None = None
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zone(value)
        except TelbillError as exc:
            raise ValueError(exc.message) from None
        return value


class CatalogDocument(Spec):
    catalog: CatalogHeader
    products: list[Product] = Field(default_factory=list)
    offers: list[Offer] = Field(default_factory=list)
    rating: RatingCatalog | None = None

    @model_validator(mode="before")
    @classmethod
    def _dates_in_catalog_timezone(cls, data: Any) -> Any:
        """Turn bare `effective_from` dates into midnight in the catalog's timezone, before validation."""
        try:
            tz = zone(data["catalog"]["timezone"])
            data = copy.deepcopy(data)
            offers = data["offers"]
        except (TypeError, KeyError, TelbillError):
            return data
        for offer in offers if isinstance(offers, list) else ():
            versions = offer.get("versions") if isinstance(offer, dict) else None
            for version in versions if isinstance(versions, list) else ():
                if isinstance(version, dict):
                    when = _as_date(version.get("effective_from"))
                    if when is not None:
                        version["effective_from"] = datetime.combine(when, time(0), tzinfo=tz)
        return data

    @model_validator(mode="after")
    def _references(self) -> CatalogDocument:
        issues = reference_issues(self)
        if issues:
            raise rules_broken(issues)
        return self

    def offer(self, code: str) -> Offer:
        for offer in self.offers:
            if offer.code == code:
                return offer
        raise KeyError(code)

    def tariff_codes(self) -> set[str]:
        return self.rating.tariff_codes() if self.rating is not None else set()


def _as_date(value: Any) -> date | None:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return date.fromisoformat(value.strip())
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return None


def _duplicates(items: list[Any], field: str) -> list[Issue]:
    seen: set[str] = set()
    issues: list[Issue] = []
    for i, item in enumerate(items):
        if item.code in seen:
            issues.append(((field, i, "code"), f"duplicate code {item.code!r}"))
        seen.add(item.code)
    return issues


def reference_issues(doc: CatalogDocument) -> list[Issue]:
    """Codes that must exist do, and are unique; bundles do not contain themselves."""
    issues = _duplicates(doc.products, "products") + _duplicates(doc.offers, "offers")
    products = {p.code for p in doc.products}
    offers = {o.code: o for o in doc.offers}
    tariffs = doc.tariff_codes()
    for i, offer in enumerate(doc.offers):
        here = ("offers", i)
        for j, code in enumerate(offer.products):
            if code not in products:
                issues.append(((*here, "products", j), f"unknown product {code!r}"))
        for j, code in enumerate(offer.compatible_with):
            target = offers.get(code)
            if target is None:
                issues.append(((*here, "compatible_with", j), f"unknown offer {code!r}"))
            elif target.kind is OfferKind.ADDON:
                issues.append(((*here, "compatible_with", j), f"{code!r} is an add-on, not a plan or bundle"))
        for j, code in enumerate(offer.components):
            if code not in offers:
                issues.append(((*here, "components", j), f"unknown component offer {code!r}"))
        issues.extend(_tariff_issues(offer, here, tariffs, doc.rating is not None))
    issues.extend(_cycle_issues(doc))
    return issues


def _tariff_issues(
    offer: Offer, here: tuple[str | int, ...], tariffs: set[str], has_rating: bool
) -> list[Issue]:
    issues: list[Issue] = []
    for v, version in enumerate(offer.versions):
        for c, charge in enumerate(version.charges):
            if not isinstance(charge, UsageCharge) or charge.tariff is None:
                continue
            path = (*here, "versions", v, "charges", c, "tariff")
            per_currency = isinstance(charge.tariff, dict)
            for currency, code in charge.tariff.items() if per_currency else [(None, charge.tariff)]:  # type: ignore[union-attr]
                if code not in tariffs:
                    hint = "" if has_rating else " (the catalog has no `rating:` section)"
                    where = (*path, currency) if currency else path
                    issues.append((where, f"unknown tariff code {code!r}{hint}"))
    return issues


def _cycle_issues(doc: CatalogDocument) -> list[Issue]:
    """A bundle that contains itself, directly or through other bundles."""
    graph = {o.code: list(o.components) for o in doc.offers}
    index = {o.code: i for i, o in enumerate(doc.offers)}
    issues: list[Issue] = []
    for code, start in graph.items():
        if not start:
            continue
        stack, seen = list(start), set()
        while stack:
            current = stack.pop()
            if current == code:
                issues.append((("offers", index[code], "components"), f"bundle {code!r} contains itself"))
                break
            if current not in seen:
                seen.add(current)
                stack.extend(graph.get(current, ()))
    return issues
