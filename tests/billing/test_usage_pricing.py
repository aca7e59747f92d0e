"""Usage in arrears: allowances on the period's total (prorated, pooled for families), tiers on
the total, tariff-rated amounts summed, minimum commitments trued up."""

from __future__ import annotations

from decimal import Decimal

from telbill.billing.charges import AccountBilling
from telbill.billing.generator import InvoiceInputs, propose
from telbill.billing.usage import InMemoryUsage, UsageAggregate
from tests.billing.pure_fixtures import account, change, offers, sub, utc

CATALOG = """\
catalog: {name: usage, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: data
    name: Data plan
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "10.00"}}
          - type: usage
            code: data
            usage_type: data
            unit: MB
            pricing:
              model: volume
              tiers:
                - {from: 0, up_to: 1000, unit_price: {EUR: "0.02"}}
                - {from: 1000, up_to: null, unit_price: {EUR: "0.01"}}
        allowances:
          - {code: data, usage_type: data, quantity: 2, unit: GB}
  - code: family
    name: Family
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - type: usage
            code: data
            usage_type: data
            unit: GB
            pricing: {model: per_unit, unit_price: {EUR: "2.00"}}
        allowances:
          - {code: data, usage_type: data, quantity: 10, unit: GB, shared: family}
  - code: rated
    name: Rated voice
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: usage, code: voice, usage_type: voice, unit: minutes, tariff: voice-national}
          - {type: minimum_commitment, code: floor, amount: {EUR: "5.00"}}
"""
RATED = CATALOG.replace("tariff: voice-national", 'pricing: {model: per_unit, unit_price: {EUR: "0"}}')
OFFERS = offers(RATED)


def _usage(acc: AccountBilling, sid: int, code: str, qty: str, unit: str, micros: int = 0, day: int = 5):
    return UsageAggregate(acc.account_id, sid, code, "data" if unit in ("MB", "GB") else "voice",
                          utc(2027, 1, day), Decimal(qty), unit, micros)  # fmt: skip


def _propose(acc, subs, usage):
    return propose(InvoiceInputs(acc, subs, usage=InMemoryUsage(usage).rows), OFFERS, utc(2027, 2, 1))


def _amounts(p, code):
    return [i.amount for i in p.items if i.charge_code == code]


def test_allowance_then_volume_tiers_on_the_period_total():
    """3,500 MB in January (two aggregates), 2 GB included: 1,500 MB at the volume tier 0.01 = 15.00."""
    acc = account()
    s = sub(offer="data", start=utc(2027, 1, 1))
    usage = [_usage(acc, 1, "data", "2500", "MB"), _usage(acc, 1, "data", "1", "GB", day=20)]
    p = _propose(acc, [(s, [change("activate", s.start_at)])], usage)
    assert _amounts(p, "data") == [Decimal("15.00")]


def test_allowance_is_prorated_for_a_partial_period():
    """Subscribed 17 Jan (15/31 of January live): 2 GB × 15/31 = 967.74… MB included; 1,000 MB used
    → 32.258… MB at 0.02 (volume, first tier) = 0.645… → 0.65."""
    acc = account()
    s = sub(offer="data", start=utc(2027, 1, 17))
    p = _propose(acc, [(s, [change("activate", s.start_at)])], [_usage(acc, 1, "data", "1000", "MB", day=20)])
    assert _amounts(p, "data") == [Decimal("0.65")]


def test_family_allowance_is_pooled_across_subscriptions():
    """Two family lines, 10 GB each pooled (20 GB): 4 GB and 19 GB used → 3 GB billable at 2.00."""
    acc = account()
    subs = [sub(i, offer="family", start=utc(2027, 1, 1)) for i in (1, 2)]
    p = _propose(acc, [(s, [change("activate", s.start_at)]) for s in subs],
                 [_usage(acc, 1, "data", "4", "GB"), _usage(acc, 2, "data", "19", "GB")])  # fmt: skip
    assert sum(_amounts(p, "data")) == Decimal("6.00")


def test_minimum_commitment_true_up():
    """5.00 minimum per month, 1.20 of usage → a 3.80 true-up."""
    acc = account()
    s = sub(offer="rated", start=utc(2027, 1, 1))
    offers_ = offers(
        CATALOG.replace("tariff: voice-national", 'pricing: {model: per_unit, unit_price: {EUR: "0.10"}}')
    )
    inputs = InvoiceInputs(
        acc, [(s, [change("activate", s.start_at)])], usage=[_usage(acc, 1, "voice", "12", "minutes")]
    )
    p = propose(inputs, offers_, utc(2027, 2, 1))
    assert _amounts(p, "voice") == [Decimal("1.20")] and _amounts(p, "floor") == [Decimal("3.80")]


def test_tariff_rated_amounts_are_summed_then_rounded_once():
    """Three rated records of 0.333333 EUR (micros) → 0.999999 → 1.00, not 3 × 0.33."""
    from telbill.billing.charges import BillingPeriod
    from telbill.billing.periods import Period
    from telbill.billing.usage import Demand, price_demand
    from telbill.catalog import UsageCharge

    charge = UsageCharge(type="usage", code="voice", usage_type="voice", unit="minutes", tariff="national")
    period = BillingPeriod(utc(2027, 1, 1), utc(2027, 2, 1), Period(utc(2027, 1, 1), utc(2027, 2, 1)))
    version = offers()["basic"].version(1)
    demand = Demand(sub(), period, "basic", version, charge, Decimal(180), 999_999, share=1)  # type: ignore[arg-type]
    assert price_demand(demand, "EUR").amount == Decimal("1.00")


def test_a_usage_source_that_knows_rerating_adjustments_provides_them_by_default():
    from telbill.billing.generator import NoAdjustments
    from telbill.billing.loading import BatchSources

    class Rated:
        def aggregates(self, account_ids, start, end):
            return []

        def adjustments(self, account_ids, start, end):
            return ["adjustment"]

    class UsageOnly:
        def aggregates(self, account_ids, start, end):
            return []

    assert BatchSources(Rated()).adjustments.adjustments([1], None, None) == ["adjustment"]
    assert isinstance(BatchSources(UsageOnly()).adjustments, NoAdjustments)
