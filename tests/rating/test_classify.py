"""Classification golden cases: which charge each usage record falls under (pure, no database).

Catalog: `tests/rating/world.py`. Plan A prices national and EU-roaming voice by its own model,
international voice and world-roaming SMS by the tariff of the account's currency; Plan B has an
unlimited national voice allowance and prices premium and international voice by tariff.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from telbill.billing.periods import BillingCycle
from telbill.catalog import parse_catalog_text
from telbill.rating.classify import (
    NO_CHARGE,
    NO_DESTINATION,
    AccountTerms,
    Facts,
    PlanChange,
    ScopeTable,
    SubscriptionTerms,
    classify,
)
from telbill.rating.repository import USAGE_SCHEMA

from .world import CATALOG, utc

DOC = parse_catalog_text(CATALOG)
OFFERS = {o.code: o for o in DOC.offers}
MONTHLY = BillingCycle("month", 1, 1, date(2026, 1, 1))


def facts(currency: str = "EUR", changes: tuple[PlanChange, ...] = (), tz: str = "UTC") -> Facts:
    accounts = {1: AccountTerms(1, currency, tz, ((None, MONTHLY),), 1)}
    subs = {10: SubscriptionTerms(10, 1, "plan-a", 1, utc(2026, 1, 1), changes=changes)}
    return Facts.build(accounts, subs, OFFERS, ScopeTable.from_catalog(DOC.rating))


def usage(*rows: dict) -> pl.DataFrame:
    base = {
        "usage_record_id": 0, "record_id": "", "usage_type": "voice", "other_party": "33612345678",
        "start_time": utc(2026, 3, 2, 10), "duration_s": 60, "volume_up": 0, "volume_down": 0,
        "roaming": False, "visited_mcc": "208", "visited_mnc": "01", "subscription_id": 10, "account_id": 1,
    }  # fmt: skip
    return pl.DataFrame([base | {"usage_record_id": i, **r} for i, r in enumerate(rows)], schema=USAGE_SCHEMA)


def outcome(frame: pl.DataFrame) -> list[tuple]:
    return list(frame.select("scope", "charge_code", "pricing", "tariff_code", "_reason").iter_rows())


def test_national_international_and_unknown_destinations():
    frame, _ = classify(
        usage({"other_party": "33612345678"}, {"other_party": "447700900123"}, {"other_party": "99912"}),
        facts(),
    )
    assert outcome(frame) == [
        ("national", "voice-national", "model", None, None),
        ("international", "voice-intl", "tariff", "calls-eur", None),
        (None, None, None, None, NO_DESTINATION),
    ]


def test_the_account_currency_picks_the_tariff():
    frame, _ = classify(usage({"other_party": "447700900123"}), facts("GBP"))
    assert outcome(frame) == [("international", "voice-intl", "tariff", "calls-gbp", None)]


def test_roaming_in_the_eu_is_not_roaming_in_the_world():
    """MCC 262 is in the EU zone; 310 falls to the default zone."""
    frame, _ = classify(
        usage(
            {"roaming": True, "visited_mcc": "262"},
            {"roaming": True, "visited_mcc": "310", "usage_type": "sms"},
            {"roaming": True, "visited_mcc": "310"},
        ),
        facts(),
    )
    assert outcome(frame) == [
        ("eu-roaming", "voice-national", "model", None, None),
        ("world-roaming", "sms-world", "tariff", "calls-eur", None),
        ("world-roaming", None, None, None, NO_CHARGE),
    ]


def test_plan_change_mid_day_routes_events_before_and_after():
    """Plan A → Plan B at 12:00: a premium call at 11:59:59 has no charge (Plan A prices no
    premium numbers), the same call at 12:00 is Plan B's `voice-premium`; a national call after
    12:00 is inside Plan B's unlimited allowance."""
    change = PlanChange(utc(2026, 3, 2, 12), "plan-a", 1, "plan-b", 1)
    frame, _ = classify(
        usage(
            {"other_party": "33891234567", "start_time": utc(2026, 3, 2, 11, 59, 59)},
            {"other_party": "33891234567", "start_time": utc(2026, 3, 2, 12)},
            {"other_party": "33612345678", "start_time": utc(2026, 3, 2, 13)},
        ),
        facts(changes=(change,)),
    )
    assert outcome(frame) == [
        ("premium", None, None, None, NO_CHARGE),
        ("premium", "voice-premium", "tariff", "calls-eur", None),
        ("national", "voice", "included", None, None),
    ]
    assert frame["offer_code"].to_list() == [None, "plan-b", "plan-b"]


def test_no_charge_for_usage_nobody_sells():
    frame, _ = classify(usage({"usage_type": "data", "volume_down": 1000, "other_party": None}), facts())
    assert outcome(frame) == [("national", None, None, None, NO_CHARGE)]  # Plan A sells no data


def test_billing_period_is_on_the_account_calendar():
    """BCD 1 in Europe/Paris: 31 March 21:59 UTC is still March there, 22:00 UTC is April."""
    frame, _ = classify(
        usage({"start_time": utc(2026, 3, 31, 21, 59)}, {"start_time": utc(2026, 3, 31, 22)}),
        facts(tz="Europe/Paris"),
    )
    assert frame["billing_period_start"].to_list() == [utc(2026, 2, 28, 23), utc(2026, 3, 31, 22)]
