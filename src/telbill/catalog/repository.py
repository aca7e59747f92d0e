"""Every SQL statement of the catalog."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from telbill.catalog.model import (
    CatalogImport,
    CatalogOffer,
    CatalogOfferVersion,
    CatalogProduct,
    CatalogRatingSection,
)


def add(session: Session, row: object) -> None:
    session.add(row)


def all_products(session: Session) -> Sequence[CatalogProduct]:
    return session.scalars(select(CatalogProduct).order_by(CatalogProduct.id)).all()


def all_offers(session: Session) -> Sequence[CatalogOffer]:
    return session.scalars(select(CatalogOffer).order_by(CatalogOffer.id)).all()


def offer_by_code(session: Session, code: str) -> CatalogOffer | None:
    return session.scalars(select(CatalogOffer).where(CatalogOffer.code == code)).one_or_none()


def all_versions(session: Session) -> Sequence[CatalogOfferVersion]:
    stmt = select(CatalogOfferVersion).order_by(CatalogOfferVersion.offer_id, CatalogOfferVersion.version)
    return session.scalars(stmt).all()


def versions_of(session: Session, offer_id: int) -> Sequence[CatalogOfferVersion]:
    stmt = (
        select(CatalogOfferVersion)
        .where(CatalogOfferVersion.offer_id == offer_id)
        .order_by(CatalogOfferVersion.version)
    )
    return session.scalars(stmt).all()


def version_number(session: Session, offer_id: int, number: int) -> CatalogOfferVersion | None:
    stmt = select(CatalogOfferVersion).where(
        CatalogOfferVersion.offer_id == offer_id, CatalogOfferVersion.version == number
    )
    return session.scalars(stmt).one_or_none()


def version_at(session: Session, offer_id: int, at: datetime) -> CatalogOfferVersion | None:
    stmt = (
        select(CatalogOfferVersion)
        .where(CatalogOfferVersion.offer_id == offer_id, CatalogOfferVersion.effective_from <= at)
        .order_by(CatalogOfferVersion.version.desc())
        .limit(1)
    )
    return session.scalars(stmt).one_or_none()


def latest_rating(session: Session) -> CatalogRatingSection | None:
    stmt = select(CatalogRatingSection).order_by(CatalogRatingSection.version.desc()).limit(1)
    return session.scalars(stmt).one_or_none()


def latest_import(session: Session) -> CatalogImport | None:
    return session.scalars(select(CatalogImport).order_by(CatalogImport.id.desc()).limit(1)).one_or_none()


def imports(session: Session) -> Sequence[CatalogImport]:
    return session.scalars(select(CatalogImport).order_by(CatalogImport.id)).all()
