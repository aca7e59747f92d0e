"""Loading a catalog document into the database, and reading offers back.

Loading is idempotent: what is already stored and equal is left alone, new offers and appended
versions are added, and a change to a published version is refused (new prices are a new version).
The whole load is planned before anything is written, so a refused load writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from telbill.catalog import repository
from telbill.catalog.document import CatalogDocument, CatalogHeader
from telbill.catalog.model import (
    CatalogImport,
    CatalogOffer,
    CatalogOfferVersion,
    CatalogProduct,
    CatalogRatingSection,
)
from telbill.catalog.offers import Offer, OfferVersion, Product
from telbill.catalog.tariffs import RatingCatalog
from telbill.core.clock import Clock, ensure_utc
from telbill.core.errors import Conflict, NotFound
from telbill.events import append_event


def content_hash(data: Any) -> str:
    """SHA-256 of canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json(spec: Any, **kwargs: Any) -> dict[str, Any]:
    return spec.model_dump(mode="json", by_alias=True, **kwargs)


@dataclass
class LoadReport:
    """What a load did. `changed` is False when the file was already loaded."""

    source: str
    content_hash: str
    products_added: list[str] = field(default_factory=list)
    products_updated: list[str] = field(default_factory=list)
    products_unchanged: list[str] = field(default_factory=list)
    offers_added: list[str] = field(default_factory=list)
    offers_updated: list[str] = field(default_factory=list)
    offers_unchanged: list[str] = field(default_factory=list)
    versions_added: list[tuple[str, int]] = field(default_factory=list)
    versions_unchanged: int = 0
    rating_version_added: int | None = None
    import_id: int | None = None

    @property
    def changed(self) -> bool:
        return bool(
            self.products_added
            or self.products_updated
            or self.offers_added
            or self.offers_updated
            or self.versions_added
            or self.rating_version_added
        )

    def counts(self) -> dict[str, int]:
        return {
            "products_added": len(self.products_added),
            "products_updated": len(self.products_updated),
            "offers_added": len(self.offers_added),
            "offers_updated": len(self.offers_updated),
            "versions_added": len(self.versions_added),
            "versions_unchanged": self.versions_unchanged,
        }


@dataclass
class _Plan:
    products: list[tuple[Product, CatalogProduct | None]] = field(default_factory=list)
    offers: list[tuple[Offer, CatalogOffer | None]] = field(default_factory=list)
    versions: list[tuple[Offer, int, OfferVersion]] = field(default_factory=list)
    rating: tuple[int, RatingCatalog] | None = None
    problems: list[str] = field(default_factory=list)


def load_catalog(
    session: Session, clock: Clock, document: CatalogDocument, *, source: str = "<catalog>"
) -> LoadReport:
    """Store what is new in `document`; raise Conflict (writing nothing) if it rewrites published data."""
    report = LoadReport(source, content_hash(_json(document)))
    plan = _plan(session, document, report)
    if plan.problems:
        raise Conflict(
            f"{source}: the catalog cannot be loaded ({len(plan.problems)} conflict"
            + ("s" if len(plan.problems) != 1 else "")
            + " with what is published)",
            details=plan.problems,
        )
    if report.changed:
        _apply(session, clock, plan, report, document.catalog)
    return report


def _plan(session: Session, document: CatalogDocument, report: LoadReport) -> _Plan:
    plan = _Plan()
    stored_products = {row.code: row for row in repository.all_products(session)}
    for product in document.products:
        row = stored_products.get(product.code)
        if row is None:
            report.products_added.append(product.code)
            plan.products.append((product, None))
        elif row.kind != product.kind.value:
            plan.problems.append(f"product {product.code!r}: kind {row.kind} cannot become {product.kind}")
        elif _canonical(Product, row.spec) != content_hash(_json(product)):
            report.products_updated.append(product.code)
            plan.products.append((product, row))
        else:
            report.products_unchanged.append(product.code)
    stored_offers = {row.code: row for row in repository.all_offers(session)}
    versions: dict[int, list[CatalogOfferVersion]] = {}
    for version_row in repository.all_versions(session):
        versions.setdefault(version_row.offer_id, []).append(version_row)
    for offer in document.offers:
        _plan_offer(offer, stored_offers.get(offer.code), versions, plan, report)
    _plan_rating(session, document, plan, report)
    return plan


def _canonical(model: type[Any], stored: dict[str, Any]) -> str:
    """Hash of stored JSON re-read through today's model, so defaults added later do not count as edits."""
    return content_hash(_json(model.model_validate(stored)))


def _header(offer: Offer) -> dict[str, Any]:
    return _json(offer, exclude={"versions"})


def _plan_offer(
    offer: Offer,
    row: CatalogOffer | None,
    versions: dict[int, list[CatalogOfferVersion]],
    plan: _Plan,
    report: LoadReport,
) -> None:
    if row is None:
        report.offers_added.append(offer.code)
        plan.offers.append((offer, None))
        stored: list[CatalogOfferVersion] = []
    else:
        stored = versions.get(row.id, [])
        if row.kind != offer.kind.value:
            plan.problems.append(f"offer {offer.code!r}: kind {row.kind} cannot become {offer.kind}")
            return
        new_header = _header(offer)
        old_header = _header(Offer.model_validate({**row.spec, "versions": [v.spec for v in stored]}))
        if content_hash(new_header) != content_hash(old_header):
            report.offers_updated.append(offer.code)
            plan.offers.append((offer, row))
        else:
            report.offers_unchanged.append(offer.code)
    for number, stored_version in enumerate(stored, start=1):
        when = stored_version.effective_from.isoformat()
        if number > len(offer.versions):
            plan.problems.append(
                f"offer {offer.code!r}: published version {number} (effective {when}) is missing from "
                "the file; published versions cannot be removed"
            )
        elif _canonical(OfferVersion, stored_version.spec) != content_hash(_json(offer.versions[number - 1])):
            plan.problems.append(
                f"offer {offer.code!r}: version {number} (effective {when}) is published and cannot "
                "change; add a new version with a later effective_from instead"
            )
        else:
            report.versions_unchanged += 1
    for number in range(len(stored) + 1, len(offer.versions) + 1):
        report.versions_added.append((offer.code, number))
        plan.versions.append((offer, number, offer.versions[number - 1]))


def _plan_rating(session: Session, document: CatalogDocument, plan: _Plan, report: LoadReport) -> None:
    if document.rating is None:
        return
    latest = repository.latest_rating(session)
    if latest is not None and _canonical(RatingCatalog, latest.spec) == content_hash(_json(document.rating)):
        return
    number = 1 if latest is None else latest.version + 1
    plan.rating = (number, document.rating)
    report.rating_version_added = number


def _apply(session: Session, clock: Clock, plan: _Plan, report: LoadReport, header: CatalogHeader) -> None:
    now = clock.now()
    for product, product_row in plan.products:
        spec = _json(product)
        if product_row is None:
            product_row = CatalogProduct(code=product.code, created_at=now)
            repository.add(session, product_row)
        product_row.kind, product_row.name, product_row.spec = product.kind.value, product.name, spec
        product_row.content_hash, product_row.updated_at = content_hash(spec), now
    offer_rows = {row.code: row for row in repository.all_offers(session)}
    for offer, offer_row in plan.offers:
        if offer_row is None:
            offer_row = CatalogOffer(code=offer.code, kind=offer.kind.value, created_at=now)
            repository.add(session, offer_row)
            offer_rows[offer.code] = offer_row
            _event(session, clock, "catalog.offer.created", offer.code, {"kind": offer.kind.value})
        spec = _header(offer)
        offer_row.name, offer_row.policies, offer_row.spec = offer.name, offer.policies(), spec
        offer_row.content_hash, offer_row.updated_at = content_hash(spec), now
    session.flush()
    for offer, number, version in plan.versions:
        spec = _json(version)
        repository.add(
            session,
            CatalogOfferVersion(
                offer_id=offer_rows[offer.code].id,
                version=number,
                effective_from=version.effective_from,
                spec=spec,
                content_hash=content_hash(spec),
                published_at=now,
            ),
        )
        payload = {"version": number, "effective_from": version.effective_from}
        _event(session, clock, "catalog.offer_version.published", offer.code, payload)
    if plan.rating is not None:
        number, rating = plan.rating
        spec = _json(rating)
        repository.add(
            session,
            CatalogRatingSection(version=number, spec=spec, content_hash=content_hash(spec), loaded_at=now),
        )
    _record_import(session, now, report, header)
    payload = {"source": report.source, "content_hash": report.content_hash, **report.counts()}
    _event(session, clock, "catalog.imported", str(report.import_id), payload)


def _record_import(session: Session, now: Any, report: LoadReport, header: CatalogHeader) -> None:
    row = CatalogImport(
        content_hash=report.content_hash,
        source=report.source[:500],
        catalog_name=header.name,
        catalog_version=None if header.version is None else str(header.version),
        timezone=header.timezone,
        loaded_at=now,
        counts=report.counts(),
    )
    repository.add(session, row)
    session.flush()
    report.import_id = row.id


def _event(
    session: Session, clock: Clock, event_type: str, aggregate_id: str, payload: dict[str, Any]
) -> None:
    append_event(
        session,
        clock,
        event_type=event_type,
        aggregate_type="catalog_offer" if event_type.startswith("catalog.offer") else "catalog",
        aggregate_id=aggregate_id,
        payload={"offer_code": aggregate_id, **payload}
        if event_type.startswith("catalog.offer")
        else payload,
    )


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublishedVersion:
    """A stored offer version: what subscriptions record (`offer_code`, `number`) and bill from."""

    offer_code: str
    number: int
    effective_from: datetime
    spec: OfferVersion
    content_hash: str
    published_at: datetime


def _offer_row(session: Session, code: str) -> CatalogOffer:
    row = repository.offer_by_code(session, code)
    if row is None:
        raise NotFound(f"no offer with code {code!r} in the catalog")
    return row


def _published(code: str, row: CatalogOfferVersion) -> PublishedVersion:
    return PublishedVersion(
        offer_code=code,
        number=row.version,
        effective_from=row.effective_from,
        spec=OfferVersion.model_validate(row.spec),
        content_hash=row.content_hash,
        published_at=row.published_at,
    )


def _offer(row: CatalogOffer, versions: list[CatalogOfferVersion]) -> Offer:
    return Offer.model_validate({**row.spec, "versions": [v.spec for v in versions]})


def get_offer(session: Session, code: str) -> Offer:
    """The offer with every published version (use `versions.version_for_*` to pick one)."""
    row = _offer_row(session, code)
    return _offer(row, list(repository.versions_of(session, row.id)))


def offer_version(session: Session, code: str, version: int) -> PublishedVersion:
    row = _offer_row(session, code)
    stored = repository.version_number(session, row.id, version)
    if stored is None:
        raise NotFound(f"offer {code!r} has no version {version}")
    return _published(code, stored)


def offer_version_at(session: Session, code: str, at: datetime) -> PublishedVersion:
    """The version a new subscription made at `at` gets: the latest with effective_from <= at."""
    row = _offer_row(session, code)
    stored = repository.version_at(session, row.id, ensure_utc(at))
    if stored is None:
        raise NotFound(f"offer {code!r} has no version in effect at {ensure_utc(at).isoformat()}")
    return _published(code, stored)


def list_offers(session: Session) -> list[Offer]:
    """Every stored offer, in the order first loaded."""
    versions: dict[int, list[CatalogOfferVersion]] = {}
    for version_row in repository.all_versions(session):
        versions.setdefault(version_row.offer_id, []).append(version_row)
    return [_offer(row, versions.get(row.id, [])) for row in repository.all_offers(session)]


def list_products(session: Session) -> list[Product]:
    return [Product.model_validate(row.spec) for row in repository.all_products(session)]


def current_rating(session: Session) -> RatingCatalog | None:
    """The rating section in force (the latest loaded), or None if no catalog carried one."""
    row = repository.latest_rating(session)
    return None if row is None else RatingCatalog.model_validate(row.spec)


def export_catalog(session: Session) -> CatalogDocument:
    """Everything stored, as a document; loading it back changes nothing."""
    last = repository.latest_import(session)
    header = (
        CatalogHeader(name="telbill")
        if last is None
        else CatalogHeader(name=last.catalog_name, version=last.catalog_version, timezone=last.timezone)
    )
    return CatalogDocument(
        catalog=header,
        products=list_products(session),
        offers=list_offers(session),
        rating=current_rating(session),
    )
