"""Loading into the database: idempotent, append-only versions, refusals that write nothing, round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from telbill.catalog import (
    current_rating,
    dump_catalog_yaml,
    export_catalog,
    get_offer,
    list_offers,
    load_catalog,
    offer_version,
    offer_version_at,
    parse_catalog_file,
    parse_catalog_text,
)
from telbill.catalog.model import CatalogImport, CatalogOffer, CatalogOfferVersion
from telbill.core.clock import TestClock
from telbill.core.errors import Conflict, NotFound
from telbill.events.model import OutboxEvent
from tests.catalog.texts import BASE, WITH_V2

CLOCK = TestClock(datetime(2026, 1, 15, tzinfo=UTC))


def load(session, text: str, source: str = "cat.yaml"):
    return load_catalog(session, CLOCK, parse_catalog_text(text, source), source=source)


def count(session, table) -> int:
    session.flush()
    return session.scalar(select(func.count()).select_from(table))


def test_first_load_adds_everything_and_records_the_import(session):
    report = load(session, BASE)
    assert report.changed
    assert report.products_added == ["mobile", "fibre"]
    assert report.offers_added == ["plan-a", "fibre-a"]
    assert report.versions_added == [("plan-a", 1), ("fibre-a", 1)]
    imported = session.get(CatalogImport, report.import_id)
    assert imported.source == "cat.yaml" and imported.content_hash == report.content_hash
    published = session.scalars(
        select(OutboxEvent).where(OutboxEvent.event_type == "catalog.offer_version.published")
    ).all()
    assert {(e.aggregate_id, e.payload["version"]) for e in published} == {("plan-a", 1), ("fibre-a", 1)}


def test_loading_the_same_file_twice_changes_nothing(session):
    load(session, BASE)
    before = (count(session, CatalogImport), count(session, CatalogOfferVersion), count(session, OutboxEvent))
    again = load(session, BASE)
    assert not again.changed
    assert again.import_id is None
    assert again.offers_unchanged == ["plan-a", "fibre-a"] and again.versions_unchanged == 2
    after = (count(session, CatalogImport), count(session, CatalogOfferVersion), count(session, OutboxEvent))
    assert after == before


def test_an_appended_version_is_added(session):
    load(session, BASE)
    report = load(session, WITH_V2)
    assert report.versions_added == [("fibre-a", 2)]
    assert report.versions_unchanged == 2
    v2 = offer_version(session, "fibre-a", 2)
    assert v2.effective_from == datetime(2026, 3, 1, tzinfo=UTC)
    assert v2.spec.charges[0].price["EUR"] == Decimal("32.00")


def test_changing_a_published_version_is_refused_and_writes_nothing(session):
    load(session, BASE)
    before = (
        count(session, CatalogOffer),
        count(session, CatalogOfferVersion),
        count(session, CatalogImport),
    )
    edited = BASE.replace('"10.00"', '"11.00"') + (
        "  - code: newcomer\n    name: New\n    kind: plan\n    products: [mobile]\n"
        "    versions: [{effective_from: 2026-02-01}]\n"
    )
    with pytest.raises(Conflict) as info:
        load(session, edited)
    assert info.value.details == [
        "offer 'plan-a': version 1 (effective 2026-01-01T00:00:00+00:00) is published and cannot change; "
        "add a new version with a later effective_from instead"
    ]
    after = (count(session, CatalogOffer), count(session, CatalogOfferVersion), count(session, CatalogImport))
    assert after == before
    with pytest.raises(NotFound):
        get_offer(session, "newcomer")


def test_removing_a_published_version_or_changing_a_kind_is_refused(session):
    load(session, WITH_V2)
    with pytest.raises(Conflict) as info:
        load(session, BASE)
    assert "published version 2 (effective 2026-03-01T00:00:00+00:00) is missing" in info.value.details[0]
    with pytest.raises(Conflict, match="kind fixed_broadband cannot become tv"):
        load(session, WITH_V2.replace("kind: fixed_broadband", "kind: tv"))


def test_offer_header_and_policy_changes_update_the_offer(session):
    load(session, BASE)
    report = load(
        session, BASE.replace("name: Plan A", "name: Plan A+").replace("notice_days: 30", "notice_days: 60")
    )
    assert report.offers_updated == ["plan-a"] and report.versions_added == []
    offer = get_offer(session, "plan-a")
    assert offer.name == "Plan A+" and offer.price_update.notice_days == 60
    stored = session.scalars(select(CatalogOffer).where(CatalogOffer.code == "plan-a")).one()
    assert stored.policies["price_update"] == {"policy": "notice", "notice_days": 60}


def test_queries_used_by_subscriptions(session):
    load(session, WITH_V2)
    assert [o.code for o in list_offers(session)] == ["plan-a", "fibre-a"]
    assert len(get_offer(session, "fibre-a").versions) == 2
    assert offer_version_at(session, "fibre-a", datetime(2026, 2, 28, 23, 59, tzinfo=UTC)).number == 1
    assert offer_version_at(session, "fibre-a", datetime(2026, 3, 1, tzinfo=UTC)).number == 2
    with pytest.raises(NotFound, match="no version in effect"):
        offer_version_at(session, "fibre-a", datetime(2025, 12, 31, tzinfo=UTC))
    with pytest.raises(NotFound, match="has no version 3"):
        offer_version(session, "fibre-a", 3)
    with pytest.raises(NotFound, match="no offer with code 'nope'"):
        get_offer(session, "nope")


def test_export_then_load_is_a_no_op(session):
    first = load(session, WITH_V2)
    text = dump_catalog_yaml(export_catalog(session))
    again = load_catalog(session, CLOCK, parse_catalog_text(text, "export.yaml"), source="export.yaml")
    assert first.changed and not again.changed


def test_example_catalog_with_rating_section_round_trips(session):
    doc = parse_catalog_file("examples/catalog.yaml")
    report = load_catalog(session, CLOCK, doc, source="examples/catalog.yaml")
    assert report.rating_version_added == 1
    assert current_rating(session).tariff_codes() == {"voice-national"}
    exported = export_catalog(session)
    assert exported.catalog.name == "example-operator"
    reparsed = parse_catalog_text(dump_catalog_yaml(exported), "export.yaml")
    assert reparsed == exported
    assert not load_catalog(session, CLOCK, reparsed, source="export.yaml").changed
