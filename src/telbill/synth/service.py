"""Loading a synthetic operator: catalog, accounts in tiers (heads before their sites), subscriptions.

Everything happens in the caller's transaction. Subscriptions whose planned fate is suspended or
cancelled go through the real lifecycle services, so their history and events are the real ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

from sqlalchemy.orm import Session

from telbill import accounts, catalog, fx, scheduler, subscriptions
from telbill.catalog.document import CatalogDocument
from telbill.core.clock import Clock
from telbill.synth.operator import OfferChoice, PlannedAccount, PlannedSubscription, plan_operator

SYNTH_CATALOG = files("telbill.synth") / "data" / "catalog.yaml"
# Reference rates for the operator's other currencies (`1 EUR = rate CUR`, as the ECB quotes them):
# its invoices in those state their VAT in EUR too (BT-111), at the rate in force on their issue date.
SYNTH_RATES = {"GBP": "0.8412"}
Progress = Callable[[str, int], None]


@dataclass
class SynthReport:
    accounts: int = 0
    subscriptions: int = 0
    rejects: list[str] = field(default_factory=list)
    states: Counter[str] = field(default_factory=Counter)
    catalog_changed: bool = False


def offer_choice(document: CatalogDocument) -> OfferChoice:
    """Sort the catalog's offers into the roles the planner needs."""
    kinds = {p.code: p.kind.value for p in document.products}
    mobile, fibre, business, bundles, addons_m, addons_f = [], [], [], [], [], []
    for offer in document.offers:
        product_kinds = {kinds.get(p, "") for p in offer.products}
        shared = any(a.shared == "family" for a in offer.versions[-1].allowances)
        if offer.kind.value == "bundle":
            bundles.append(offer.code)
        elif offer.kind.value == "plan" and shared:
            business.append(offer.code)
        elif offer.kind.value == "plan" and "fixed_broadband" in product_kinds:
            fibre.append(offer.code)
        elif offer.kind.value == "plan" and product_kinds & {"mobile", "mobile_voice", "mobile_data"}:
            mobile.append(offer.code)
    for offer in document.offers:
        if offer.kind.value != "addon" or any(
            p.kind.value == "device" for p in document.products if p.code in offer.products
        ):
            continue
        if set(offer.compatible_with) & set(mobile):
            addons_m.append(offer.code)
        elif set(offer.compatible_with) & set(fibre):
            addons_f.append(offer.code)
    return OfferChoice(
        tuple(mobile), tuple(fibre), tuple(addons_m), tuple(addons_f), tuple(business), tuple(bundles)
    )


def load_synthetic_operator(
    session: Session,
    clock: Clock,
    *,
    accounts_count: int,
    seed: int,
    catalog_path: Path | None = None,
    progress: Progress | None = None,
) -> SynthReport:
    report = SynthReport()
    tick = progress or (lambda _stage, _n: None)
    document = catalog.parse_catalog_file(catalog_path or Path(str(SYNTH_CATALOG)))
    report.catalog_changed = catalog.load_catalog(session, clock, document, source="synthetic").changed
    tick("catalog", 1)
    plan = plan_operator(accounts_count, seed, clock.now(), offer_choice(document))
    ids = _create_accounts(session, clock, plan, tick)
    report.accounts = len(ids)
    _record_rates(session, clock, {a.currency for a in plan})
    _create_subscriptions(session, clock, plan, ids, report, tick)
    report.states.update(subscriptions.count_by_state(session))
    return report


def _record_rates(session: Session, clock: Clock, currencies: set[str]) -> None:
    """One rate per other currency, in force from a week before the as-of date (whatever the
    accounts' timezones, every invoice from then on finds it)."""
    since = (clock.now() - timedelta(days=7)).date()
    rates = [
        fx.checked_rate("EUR", code, SYNTH_RATES[code], since, "synthetic")
        for code in sorted(currencies)
        if code in SYNTH_RATES
    ]
    fx.record_rates(session, clock, rates)


def _create_accounts(
    session: Session, clock: Clock, plan: Sequence[PlannedAccount], tick: Progress
) -> dict[int, int]:
    """Heads first, then accounts whose parent exists: bulk creation needs parents in place."""
    ids: dict[int, int] = {}
    for tier in (
        [a for a in plan if a.parent_key is None],
        [a for a in plan if a.parent_key is not None],
    ):
        specs = [_account_spec(a, ids) for a in tier]
        for chunk_start in range(0, len(specs), 5_000):
            chunk = specs[chunk_start : chunk_start + 5_000]
            created = accounts.bulk_create_accounts(session, clock, chunk)
            for planned, made in zip(tier[chunk_start : chunk_start + 5_000], created, strict=True):
                ids[planned.key] = made.account_id
            tick("accounts", len(chunk))
    return ids


def _account_spec(a: PlannedAccount, ids: dict[int, int]) -> accounts.NewCustomerAccount:
    given, _, family = a.name.partition(" ")
    customer = accounts.CustomerCreate(
        kind=a.kind,
        name=a.name,
        country=a.country,
        segment=a.segment,
        vat_number=a.vat_number,
        given_name=given if a.kind == "person" else None,
        family_name=family if a.kind == "person" else None,
        address=accounts.Address(
            line1="1 place du Marché", postcode=a.postcode, city=a.city, country=a.country
        ),
    )
    account = accounts.BillingAccountCreate(
        name=a.name,
        parent_id=ids[a.parent_key] if a.parent_key else None,
        pays_for_children=a.pays_for_children,
        currency=a.currency,
        timezone=a.timezone,
        language=a.language,
        bill_cycle_day=a.bill_cycle_day,
        cycle=a.cycle,
        billing_start=a.billing_start,
        invoice_delivery="portal" if a.kind == "person" else "email",
    )
    return accounts.NewCustomerAccount(customer=customer, account=account)


def _create_subscriptions(
    session: Session,
    clock: Clock,
    plan: Sequence[PlannedAccount],
    ids: dict[int, int],
    report: SynthReport,
    tick: Progress,
) -> None:
    planned = [(a, s) for a in plan for s in a.subscriptions]
    specs = [_subscription_spec(ids[a.key], s) for a, s in planned]
    made, rejects = subscriptions.bulk_create_subscriptions(session, clock, specs)
    report.rejects = [f"{planned[i][0].name}: {planned[i][1].offer_code}: {why}" for i, why in rejects]
    rejected = {i for i, _ in rejects}
    kept = [p for i, p in enumerate(planned) if i not in rejected]
    report.subscriptions = len(made)
    tick("subscriptions", len(made))
    # Trials that ended before today become active. Only the subscription jobs run: the bill run
    # bills the accounts from their go-live date, at their next bill run.
    lifecycle = [s for s in scheduler.registered_sources() if s.name.startswith("subscriptions")]
    scheduler.run_due(session, clock, sources=lifecycle)
    for (_, sub), sub_id in zip(kept, made, strict=True):
        if sub.fate == "suspended" and subscriptions.get_subscription(session, sub_id).state == "active":
            subscriptions.suspend(session, clock, sub_id, reason="unpaid")
        elif sub.fate == "cancelled":
            subscriptions.cancel(session, clock, sub_id, when="now", reason="customer request")


def _subscription_spec(account_id: int, s: PlannedSubscription) -> subscriptions.SubscriptionSpec:
    ids = [
        subscriptions.ServiceIdIn(type=kind, value=value)
        for kind, value in (
            ("msisdn", s.msisdn),
            ("imsi", s.imsi),
            ("iccid", s.iccid),
            ("line_id", s.line_id),
        )
        if value
    ]
    return subscriptions.SubscriptionSpec(
        account_id=account_id, offer_code=s.offer_code, start_at=s.start_at, service_ids=ids
    )
