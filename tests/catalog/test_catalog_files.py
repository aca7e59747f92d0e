"""The shipped catalogs: the example and the synthetic operator's, valid and loadable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.resources import files

from telbill.catalog import (
    GrandfatheredPolicy,
    NoticePolicy,
    OfferKind,
    load_catalog,
    parse_catalog_text,
    version_for_cycle,
)
from telbill.core.clock import TestClock

SYNTH = files("telbill.synth") / "data" / "catalog.yaml"


def synth():
    return parse_catalog_text(SYNTH.read_text(encoding="utf-8"), "synth/catalog.yaml")


def test_synthetic_catalog_covers_the_operator_story():
    doc = synth()
    assert 18 <= len(doc.offers) <= 24
    assert {o.kind for o in doc.offers} == set(OfferKind)
    for offer in doc.offers:
        for version in offer.versions:
            assert version.currencies() in ({"EUR", "GBP"}, set()), offer.code
    legacy = doc.offer("mobile-legacy-10gb")
    assert isinstance(legacy.price_update, GrandfatheredPolicy) and len(legacy.versions) == 2
    increase = doc.offer("mobile-20gb")
    assert isinstance(increase.price_update, NoticePolicy) and increase.price_update.notice_days == 30
    # Paris midnight of 2026-02-01 is 2026-01-31 23:00 UTC; 30 days later is 2026-03-02 23:00 UTC.
    assert version_for_cycle(increase, 1, datetime(2026, 3, 2, 22, 59, tzinfo=UTC)) == 1
    assert version_for_cycle(increase, 1, datetime(2026, 3, 2, 23, 0, tzinfo=UTC)) == 2
    pools = [a for o in doc.offers for v in o.versions for a in v.allowances if a.shared == "family"]
    assert len(pools) == 2


def test_synthetic_catalog_loads_once(session):
    clock = TestClock(datetime(2026, 1, 1, tzinfo=UTC))
    first = load_catalog(session, clock, synth(), source="synth")
    assert len(first.offers_added) == len(synth().offers)
    clock.advance(timedelta(days=1))
    assert not load_catalog(session, clock, synth(), source="synth").changed
