"""A small rated world: a catalog with tariffs written as text, accounts, subscriptions and usage
records inserted as mediation would leave them."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from telbill.mediation.model import UsageRecord
from tests.scenarios.world import World

CATALOG = """\
catalog: {name: rated, version: "1", timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: plan-a
    name: Plan A
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "10.00", GBP: "9.00"}}
          - type: usage
            code: voice-national
            usage_type: voice
            unit: seconds
            scope: [national, eu-roaming]
            pricing: {model: per_unit, unit_price: {EUR: "0.01", GBP: "0.01"}}
          - type: usage
            code: voice-intl
            usage_type: voice
            unit: seconds
            scope: [international]
            tariff: {EUR: calls-eur, GBP: calls-gbp}
          - type: usage
            code: sms-world
            usage_type: sms
            unit: events
            scope: [world-roaming]
            tariff: {EUR: calls-eur, GBP: calls-gbp}
        allowances:
          - {code: intl-minutes, usage_type: voice, quantity: 2, unit: minutes, scope: [international]}
  - code: plan-b
    name: Plan B
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "20.00", GBP: "18.00"}}
          - type: usage
            code: voice-premium
            usage_type: voice
            unit: seconds
            scope: [premium]
            tariff: {EUR: calls-eur, GBP: calls-gbp}
          - type: usage
            code: voice-intl
            usage_type: voice
            unit: seconds
            scope: [international]
            tariff: {EUR: calls-eur, GBP: calls-gbp}
        allowances:
          - {code: voice, usage_type: voice, unlimited: true, scope: [national, eu-roaming]}
rating:
  destination_sets:
    - {code: national.all, prefixes: ["33"]}
    - {code: premium.fr, prefixes: ["3389"]}
    - {code: international.uk, prefixes: ["44"]}
  zones:
    - {code: eu-roaming, networks: ["262"], like_home: true}
    - {code: world-roaming, default: true}
  tariffs:
    - code: calls-eur
      versions:
        - version: 1
          effective_from: 2026-01-01
          currency: EUR
          rates:
            - {destination_set: international.uk, price: "0.60", increments: "60/60"}
            - {destination_set: premium.fr, price: "1.00", increments: "60/60", connect_fee: "0.50"}
            - {usage_type: sms, zone: world-roaming, price: "0.30", per: 1}
    - code: calls-gbp
      versions:
        - version: 1
          effective_from: 2026-01-01
          currency: GBP
          rates:
            - {destination_set: international.uk, price: "0.50", increments: "60/60"}
            - {destination_set: premium.fr, price: "0.90", increments: "60/60"}
            - {usage_type: sms, zone: world-roaming, price: "0.25", per: 1}
"""

_ids = count(1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def add_usage(
    session,
    sub,
    at: datetime,
    *,
    usage_type: str = "voice",
    to: str = "33612345678",
    seconds: int = 60,
    mcc: str = "208",
    volume: int = 0,
) -> int:
    """One usage record as mediation stores it; returns its id."""
    n = next(_ids)
    row = UsageRecord(
        record_id=f"r{n}", source="test", file_id=1, line_no=n, usage_type=usage_type,
        served_msisdn="33600000000", served_imsi=None, other_party=to if usage_type != "data" else None,
        start_time=at, duration_s=seconds if usage_type in ("voice", "video") else 0,
        volume_up=0, volume_down=volume, visited_mcc=mcc, visited_mnc="01", roaming=mcc != "208",
        cell_id=None, rating_group=None, charging_id=None, record_sequence=None, cause_for_closing=None,
        partial=False, subscription_id=sub.id, account_id=sub.account_id, content_hash=n,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def world(session, start: datetime = utc(2026, 3, 1)) -> World:
    return World(session, CATALOG, start)
