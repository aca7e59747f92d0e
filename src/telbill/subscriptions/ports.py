"""What subscriptions read from the catalog and accounts contexts, through their public APIs only.

Both are turned into small frozen views here (`OfferTerms`, `AccountView`) so the rest of the
context does not depend on how those contexts shape their data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from telbill.accounts import cycle_in_force, get_account, get_account_by_number
from telbill.billing.periods import BillingCycle, next_period_start
from telbill.catalog import (
    FixedTermPhase,
    Offer,
    OfferVersion,
    RecurringCharge,
    TrialPhase,
    get_offer,
    offer_version,
    offer_version_at,
    version_for_new_subscription,
)
from telbill.core.clock import zone
from telbill.core.errors import NotFound, ValidationFailed
from telbill.subscriptions.terms import MONTHS_PER_UNIT, EarlyTermination, Length, OfferTerms


@dataclass(frozen=True)
class AccountView:
    id: int
    number: str
    currency: str
    timezone: str
    status: str

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)


def account(session: Session, ref: int | str) -> AccountView:
    """A billing account by id or by number (ACC-...); NotFound otherwise."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        row = get_account(session, int(ref))
    else:
        row = get_account_by_number(session, ref)
    return AccountView(row.id, row.number, row.currency, row.timezone, row.status)


def cycle_at(session: Session, account_id: int, instant: datetime) -> BillingCycle:
    return cycle_in_force(session, account_id, instant)


def end_of_period(session: Session, acc: AccountView, instant: datetime) -> datetime:
    """The next period boundary of the account's bill cycle strictly after `instant`."""
    return next_period_start(cycle_at(session, acc.id, instant), acc.tz, instant)


def terms_at(session: Session, code: str, at: datetime) -> OfferTerms:
    """The terms a new subscription made at `at` gets (the version in effect then)."""
    offer = get_offer(session, code)
    published = offer_version_at(session, code, at)
    return _terms(offer, published.number, published.spec)


def terms_of(session: Session, code: str, version: int) -> OfferTerms:
    offer = get_offer(session, code)
    return _terms(offer, version, offer_version(session, code, version).spec)


def offer_exists(session: Session, code: str) -> bool:
    try:
        get_offer(session, code)
    except NotFound:
        return False
    return True


def _terms(offer: Offer, number: int, version: OfferVersion) -> OfferTerms:
    trial = next((p for p in version.phases if isinstance(p, TrialPhase)), None)
    term = next((p for p in version.phases if isinstance(p, FixedTermPhase)), None)
    return OfferTerms(
        code=offer.code,
        version=number,
        kind=str(offer.kind),
        name=offer.name,
        currencies=frozenset(version.currencies()),
        plan_change=str(offer.plan_change),
        cancellation=str(offer.cancellation),
        trial=Length(str(trial.duration.unit), trial.duration.count) if trial else None,
        fixed_term=Length(str(term.duration.unit), term.duration.count) if term else None,
        early_termination=_early_termination(term),
        monthly_price=_monthly_price(version.recurring_charges()),
        compatible_with=tuple(offer.compatible_with),
        components=tuple(offer.components),
    )


def _early_termination(term: FixedTermPhase | None) -> EarlyTermination | None:
    if term is None or term.early_termination is None:
        return None
    rule = term.early_termination
    kind = str(rule.kind)
    if kind == "fixed":
        return EarlyTermination(kind, amounts=dict(rule.amount))  # type: ignore[union-attr]
    if kind == "percent_of_remaining":
        return EarlyTermination(kind, percent=rule.percent)  # type: ignore[union-attr]
    return EarlyTermination(kind)


def _monthly_price(charges: list[RecurringCharge]) -> dict[str, Decimal]:
    """Recurring charges per month, per currency (charges by day or week are left out)."""
    total: dict[str, Decimal] = {}
    for charge in charges:
        months = MONTHS_PER_UNIT.get(str(charge.period.unit), 0) * charge.period.count
        if not months:
            continue
        for code, price in charge.price.items():
            total[code] = total.get(code, Decimal(0)) + price / months
    return total


def require_currency(terms: OfferTerms, acc: AccountView) -> None:
    if terms.currencies and acc.currency not in terms.currencies:
        raise ValidationFailed(
            f"offer {terms.code!r} is not priced in {acc.currency} (account {acc.number})",
            details=[f"it is priced in {', '.join(sorted(terms.currencies))}"],
        )


class TermsCache:
    """Offer terms and accounts read once per bulk load, not once per subscription."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._offers: dict[str, Offer] = {}
        self._accounts: dict[int, AccountView] = {}

    def terms_at(self, code: str, at: datetime) -> OfferTerms:
        offer = self._offers.get(code)
        if offer is None:
            offer = self._offers[code] = get_offer(self._session, code)
        number = version_for_new_subscription(offer, at)
        return _terms(offer, number, offer.version(number))

    def account(self, account_id: int) -> AccountView:
        if account_id not in self._accounts:
            self._accounts[account_id] = account(self._session, account_id)
        return self._accounts[account_id]
