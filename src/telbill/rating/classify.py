"""Which charge a usage record falls under: its scope, its billing period, its subscription's offer
at the event, and that offer's usage charges (pure; Polars frames in and out).

- **Scope.** Roaming (visited network not the home one): the roaming zone's code (`eu-roaming`,
  `world-roaming`), found by "MCC-MNC", then "MCC", then the default zone. Not roaming: the
  destination set of the number's longest prefix, whose scope is its code up to the first `.`
  (`national.mobile` → `national`, `premium.shared-cost` → `premium`); no number (data) is `national`.
- **Billing period.** The account's cycle in force at the event (its cycle history), the period
  containing the event on the account's calendar, clipped at a cycle change — as the bill run does.
- **Offer.** The subscription's offer at the event (plan changes move events before and after the
  change to their own offer) and the version in force for that period (`version_for_cycle`).
- **Charge.** Among the subscriptions of the same family (add-ons first, then the subscription itself,
  then the others: bundle, components), the first usage charge of the record's usage type whose scope
  lists the record's scope. A tariff charge (`tariff:`, per currency) is priced by the engine; a model
  charge (`pricing:`) keeps the quantity for the bill run. No charge but an allowance that covers the
  scope: `included` (nothing to bill). Otherwise the record is rejected: `no_charge_for_usage`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from telbill.billing.periods import BillingCycle, period_containing
from telbill.catalog.charges import Allowance, UsageCharge
from telbill.catalog.offers import Offer, OfferKind
from telbill.catalog.tariffs import RatingCatalog
from telbill.catalog.versions import version_for_cycle
from telbill.core.clock import zone

HOME_SCOPE = "national"
NO_CHARGE = "no_charge_for_usage"
NO_ZONE = "no_roaming_zone"
NO_DESTINATION = "unknown_destination"
NO_TARIFF = "no_tariff_for_currency"
NO_SUBSCRIPTION = "unknown_subscription"
UTC_US = pl.Datetime("us", "UTC")
STR = pl.String()


def scope_of(code: str) -> str:
    """A destination set's or zone's scope: its code up to the first `.`."""
    return code.split(".", 1)[0]


@dataclass(frozen=True)
class ScopeTable:
    """Destination sets by prefix and roaming zones by network, from the rating catalog."""

    prefixes: Mapping[str, str]  # prefix -> destination set code (first listed wins)
    networks: Mapping[str, str]  # "MCC" or "MCC-MNC" -> zone code
    default_zone: str | None = None

    @classmethod
    def from_catalog(
        cls, rating: RatingCatalog | None, files: Mapping[str, Sequence[str]] | None = None
    ) -> ScopeTable:
        """`files`: prefixes of sets written in a prefix file, read by the caller (set code -> prefixes)."""
        prefixes: dict[str, str] = {}
        networks: dict[str, str] = {}
        default = None
        for s in rating.destination_sets if rating else ():
            for p in (*s.prefixes, *(files or {}).get(s.code, ())):
                prefixes.setdefault(p, s.code)
        for z in rating.zones if rating else ():
            for n in z.networks:
                networks.setdefault(n, z.code)
            if z.default:
                default = z.code
        return cls(prefixes, networks, default)

    def scopes(self) -> list[str]:
        """Every scope a record can have."""
        codes = {*self.prefixes.values(), *self.networks.values(), self.default_zone or HOME_SCOPE}
        return sorted({HOME_SCOPE, *(scope_of(c) for c in codes)})


def _longest_prefix(numbers: pl.Expr, prefixes: Mapping[str, str]) -> pl.Expr:
    by_length: dict[int, dict[str, str]] = {}
    for p, code in prefixes.items():
        by_length.setdefault(len(p), {})[p] = code
    tries = [
        numbers.str.slice(0, n).replace_strict(list(t), list(t.values()), default=None, return_dtype=STR)
        for n, t in sorted(by_length.items(), reverse=True)
    ]
    return pl.coalesce(tries) if tries else pl.lit(None, pl.String)


def with_scope(usage: pl.DataFrame, table: ScopeTable) -> pl.DataFrame:
    """Adds `destination` (set code), `roaming_zone`, `scope`, and `_reason` when none fits."""
    mcc, mnc = pl.col("visited_mcc").fill_null(""), pl.col("visited_mnc").fill_null("")
    net = dict(table.networks)
    zone_expr = pl.coalesce(
        pl.concat_str(mcc, pl.lit("-"), mnc).replace_strict(list(net), list(net.values()), default=None),
        mcc.replace_strict(list(net), list(net.values()), default=None),
        pl.lit(table.default_zone, pl.String),
    )
    number = pl.col("other_party").fill_null("")
    frame = usage.with_columns(
        destination=pl.when(number != "").then(_longest_prefix(number, table.prefixes)),
        roaming_zone=pl.when(pl.col("roaming").fill_null(False)).then(zone_expr),
    )
    roaming = pl.col("roaming").fill_null(False)
    scope = (
        pl.when(roaming)
        .then(pl.col("roaming_zone").str.split(".").list.first())
        .when(number == "")
        .then(pl.lit(HOME_SCOPE))
        .otherwise(pl.col("destination").str.split(".").list.first())
    )
    reason = (
        pl.when(roaming & pl.col("roaming_zone").is_null())
        .then(pl.lit(NO_ZONE))
        .when(~roaming & (number != "") & pl.col("destination").is_null())
        .then(pl.lit(NO_DESTINATION))
    )
    return frame.with_columns(scope=scope, _reason=reason)


# --- facts about accounts and subscriptions -----------------------------------------------------


@dataclass(frozen=True)
class PlanChange:
    at: datetime
    from_offer: str
    from_version: int
    to_offer: str
    to_version: int


@dataclass(frozen=True)
class SubscriptionTerms:
    """A subscription as rating needs it: offer over time, life, place in its family."""

    id: int
    account_id: int
    offer_code: str
    offer_version: int
    start_at: datetime
    end_at: datetime | None = None
    parent_id: int | None = None
    changes: tuple[PlanChange, ...] = ()  # applied plan changes, in time order

    def offer_at(self, at: datetime) -> tuple[str, int]:
        """The offer and subscribed version at an instant (a change applies from its instant on)."""
        if not self.changes:
            return self.offer_code, self.offer_version
        current = (self.changes[0].from_offer, self.changes[0].from_version)
        for c in self.changes:
            if c.at <= at:
                current = (c.to_offer, c.to_version)
        return current

    def live_at(self, at: datetime) -> bool:
        return self.start_at <= at and (self.end_at is None or at < self.end_at)

    def boundaries(self) -> list[datetime]:
        return [self.start_at, *([self.end_at] if self.end_at else []), *(c.at for c in self.changes)]


@dataclass(frozen=True)
class AccountTerms:
    """An account's currency, calendar and cycle history; `family_id` is the root of its hierarchy."""

    id: int
    currency: str
    timezone: str
    regimes: tuple[tuple[datetime | None, BillingCycle], ...]  # (from, cycle), first from None
    family_id: int

    def period_at(self, at: datetime) -> tuple[datetime, datetime, datetime]:
        """(start, end, basis start) of the billing period containing `at`, clipped at cycle changes."""
        starts = [s for s, _ in self.regimes]
        i = max(j for j, s in enumerate(starts) if s is None or s <= at)
        whole = period_containing(self.regimes[i][1], zone(self.timezone), at)
        lo, hi = starts[i], starts[i + 1] if i + 1 < len(starts) else None
        start = max(whole.start, lo) if lo else whole.start
        return start, min(whole.end, hi) if hi else whole.end, whole.start


@dataclass(frozen=True)
class Facts:
    """Everything classification reads besides the records."""

    accounts: Mapping[int, AccountTerms]
    subscriptions: Mapping[int, SubscriptionTerms]
    offers: Mapping[str, Offer]
    scopes: ScopeTable
    families: Mapping[int, tuple[int, ...]] = field(default_factory=dict)  # root sub -> members

    @classmethod
    def build(
        cls,
        accounts: Mapping[int, AccountTerms],
        subscriptions: Mapping[int, SubscriptionTerms],
        offers: Mapping[str, Offer],
        scopes: ScopeTable,
    ) -> Facts:
        families: dict[int, list[int]] = {}
        for sid in sorted(subscriptions):
            families.setdefault(root_of(subscriptions, sid), []).append(sid)
        return cls(accounts, subscriptions, offers, scopes, {k: tuple(v) for k, v in families.items()})


def root_of(subscriptions: Mapping[int, SubscriptionTerms], sid: int) -> int:
    seen = {sid}
    while (parent := subscriptions[sid].parent_id) is not None and parent in subscriptions:
        if parent in seen:
            break
        seen.add(parent)
        sid = parent
    return sid


# --- resolution ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """The charge (or allowance) a kind of record falls under, or why none."""

    reason: str | None = None
    subscription_id: int | None = None
    offer_code: str | None = None
    offer_version: int | None = None
    charge_code: str | None = None
    pricing: str | None = None  # tariff | model | included
    tariff_code: str | None = None
    allowances: tuple[Allowance, ...] = ()  # of the charge's subscription, covering the scope


def _covers(scopes: Sequence[str], scope: str) -> bool:
    return not scopes or scope in scopes


def candidates(facts: Facts, sid: int, at: datetime) -> list[int]:
    """Subscriptions whose charges may take a record of `sid`: add-ons first, then itself, then the rest."""
    subs = facts.subscriptions
    family = [m for m in facts.families.get(root_of(subs, sid), (sid,)) if m == sid or subs[m].live_at(at)]

    def kind(m: int) -> OfferKind | None:
        offer = facts.offers.get(subs[m].offer_at(at)[0])
        return offer.kind if offer else None

    addons = [m for m in family if m != sid and kind(m) is OfferKind.ADDON]
    rest = [m for m in family if m != sid and m not in addons]
    return [*addons, sid, *rest]


def resolve(facts: Facts, sid: int, at: datetime, basis: datetime, usage_type: str, scope: str) -> Resolution:
    """The charge of the first candidate subscription that prices this usage type in this scope."""
    if sid not in facts.subscriptions:
        return Resolution(NO_SUBSCRIPTION)
    currency = facts.accounts[facts.subscriptions[sid].account_id].currency
    included: Resolution | None = None
    for m in candidates(facts, sid, at):
        code, subscribed = facts.subscriptions[m].offer_at(at)
        offer = facts.offers.get(code)
        if offer is None:
            continue
        number = version_for_cycle(offer, subscribed, basis)
        version = offer.version(number)
        allowances = tuple(
            a for a in version.allowances if a.usage_type.value == usage_type and _covers(a.scope, scope)
        )
        for charge in version.charges:
            if (
                isinstance(charge, UsageCharge)
                and charge.usage_type.value == usage_type
                and _covers(charge.scope, scope)
            ):
                return _charge_resolution(m, code, number, charge, currency, allowances)
        if allowances and included is None:
            included = Resolution(None, m, code, number, allowances[0].code, "included", None, allowances)
    return included or Resolution(NO_CHARGE)


def _charge_resolution(
    sid: int, code: str, number: int, charge: UsageCharge, currency: str, allowances: tuple[Allowance, ...]
) -> Resolution:
    if charge.tariff is None:
        return Resolution(None, sid, code, number, charge.code, "model", None, allowances)
    tariff = charge.tariff_for(currency)
    if tariff is None:
        return Resolution(NO_TARIFF, sid, code, number, charge.code, "tariff")
    return Resolution(None, sid, code, number, charge.code, "tariff", tariff, allowances)


# --- the whole batch -----------------------------------------------------------------------------

RESOLVED = {
    "charge_subscription_id": pl.Int64,
    "offer_code": pl.String,
    "offer_version": pl.Int64,
    "charge_code": pl.String,
    "pricing": pl.String,
    "tariff_code": pl.String,
    "_key": pl.Int64,
}


def with_periods(usage: pl.DataFrame, facts: Facts) -> pl.DataFrame:
    """Adds `billing_period_start`, `billing_period_end` and `_basis` (the whole cycle period's start)."""
    rows = []
    memo: dict[tuple[int, datetime], tuple[datetime, datetime, datetime]] = {}
    for acc, t in usage.select("account_id", "start_time").iter_rows():
        terms = facts.accounts.get(acc)
        if terms is None:
            rows.append((None, None, None))
            continue
        # Period bounds fall on local midnights (a whole quarter-hour in UTC) or on a cycle change.
        cell = t - timedelta(minutes=t.minute % 15, seconds=t.second, microseconds=t.microsecond)
        known = memo.get((acc, cell))
        if known is None or not known[0] <= t < known[1]:
            known = memo[(acc, cell)] = terms.period_at(t)
        rows.append(known)
    if not rows:
        rows_frame = pl.DataFrame(schema={"a": UTC_US, "b": UTC_US, "c": UTC_US})
    else:
        rows_frame = pl.DataFrame(rows, schema={"a": UTC_US, "b": UTC_US, "c": UTC_US}, orient="row")
    return usage.with_columns(
        billing_period_start=rows_frame["a"], billing_period_end=rows_frame["b"], _basis=rows_frame["c"]
    )


def _epoch(facts: Facts, sid: int, at: datetime, cache: dict[int, list[datetime]]) -> int:
    """Index of the stretch of time, for the subscription's family, in which nothing changes."""
    root = root_of(facts.subscriptions, sid) if sid in facts.subscriptions else sid
    if root not in cache:
        members = facts.families.get(root, ())
        cache[root] = sorted({b for m in members for b in facts.subscriptions[m].boundaries()})
    return bisect_right(cache[root], at)


def classify(usage: pl.DataFrame, facts: Facts) -> tuple[pl.DataFrame, dict[int, Resolution]]:
    """The records with scope, period and charge columns (`_reason` set when unrated), and the
    resolutions by `_key` (for the allowances of tariff charges)."""
    frame = with_periods(with_scope(usage, facts.scopes), facts)
    cache: dict[int, list[datetime]] = {}
    keys: dict[tuple[object, ...], int] = {}
    found: dict[int, Resolution] = {}
    out = []
    for sid, at, basis, utype, scope, reason in frame.select(
        "subscription_id", "start_time", "_basis", "usage_type", "scope", "_reason"
    ).iter_rows():
        if reason is not None or basis is None:
            out.append(None)
            continue
        key = (sid, _epoch(facts, sid, at, cache), basis, utype, scope)
        if key not in keys:
            keys[key] = len(keys)
            found[keys[key]] = resolve(facts, sid, at, basis, utype, scope)
        out.append(keys[key])
    frame = frame.with_columns(_key=pl.Series(out, dtype=pl.Int64))
    table = pl.DataFrame(
        [
            (r.subscription_id, r.offer_code, r.offer_version, r.charge_code, r.pricing, r.tariff_code, k)
            for k, r in found.items()
        ],
        schema=RESOLVED,
        orient="row",
    )
    reasons = pl.DataFrame(
        [(k, r.reason) for k, r in found.items()], schema={"_key": pl.Int64, "_why": pl.String}, orient="row"
    )
    frame = frame.join(table, on="_key", how="left").join(reasons, on="_key", how="left")
    missing_account = pl.col("_basis").is_null() & pl.col("_reason").is_null()
    return frame.with_columns(
        _reason=pl.coalesce("_reason", "_why", pl.when(missing_account).then(pl.lit(NO_SUBSCRIPTION)))
    ).drop("_why"), found
