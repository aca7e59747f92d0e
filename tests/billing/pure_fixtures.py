"""Small readable catalogs and accounts for the pure bill-run tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from telbill.billing.charges import AccountBilling, CycleRegime
from telbill.billing.events import ChangeFacts, SubscriptionFacts
from telbill.billing.periods import BillingCycle
from telbill.catalog import parse_catalog_text

CATALOG = """\
catalog: {name: t, timezone: Europe/Paris}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "29.99"}}
          - {type: one_time, code: sim, kind: activation, price: {EUR: "10.00"}}
          - type: usage
            code: data
            usage_type: data
            unit: MB
            pricing: {model: per_unit, unit_price: {EUR: "0.01"}}
        allowances:
          - {code: data, usage_type: data, quantity: 1, unit: GB}
  - code: premium
    name: Premium
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "49.99"}}
  - code: frozen
    name: Frozen
    kind: plan
    products: [mobile]
    proration: {basis: actual_days, on_change: none}
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "29.99"}}
"""


def offers(text: str = CATALOG):
    return {o.code: o for o in parse_catalog_text(text).offers}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def account(
    account_id: int = 1, bcd: int = 1, tz: str = "UTC", anchor: date = date(2027, 1, 1)
) -> AccountBilling:
    return AccountBilling(
        account_id,
        f"ACC-{account_id:06d}",
        "EUR",
        tz,
        (CycleRegime(None, BillingCycle.monthly(bcd, anchor)),),
    )


def sub(
    sub_id: int = 1, offer: str = "basic", start: datetime = utc(2027, 1, 1), account_id: int = 1, **kw
) -> SubscriptionFacts:
    return SubscriptionFacts(
        sub_id, account_id, offer, 1, kw.pop("quantity", 1), kw.pop("state", "active"), start, **kw
    )


def change(kind: str, at: datetime, status: str = "applied", **payload) -> ChangeFacts:
    return ChangeFacts(kind, at, status, payload)
