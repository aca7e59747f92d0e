"""Catalog tables. Offer versions are append-only: a published version's spec never changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telbill.db.base import Base, UTCDateTime, id_column


class CatalogProduct(Base):
    __tablename__ = "catalog_products"

    id: Mapped[int] = id_column()
    code: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CatalogOffer(Base):
    """An offer's header: what it is and its policies; prices live in its versions."""

    __tablename__ = "catalog_offers"

    id: Mapped[int] = id_column()
    code: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    policies: Mapped[dict[str, Any]] = mapped_column(JSON)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CatalogOfferVersion(Base):
    __tablename__ = "catalog_offer_versions"

    id: Mapped[int] = id_column()
    offer_id: Mapped[int] = mapped_column(ForeignKey("catalog_offers.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("offer_id", "version"),
        UniqueConstraint("offer_id", "effective_from"),
    )


class CatalogRatingSection(Base):
    """Each distinct `rating:` section loaded, numbered; the highest version is in force."""

    __tablename__ = "catalog_rating_sections"

    id: Mapped[int] = id_column()
    version: Mapped[int] = mapped_column(Integer, unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CatalogImport(Base):
    """One row per load that changed something (a repeated load leaves no trace)."""

    __tablename__ = "catalog_imports"

    id: Mapped[int] = id_column()
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(500))
    catalog_name: Mapped[str] = mapped_column(String(200))
    catalog_version: Mapped[str | None] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
