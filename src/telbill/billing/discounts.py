"""Discounts: coupons, account-level discounts and bundle discounts, as pure functions.

`check_redemption` says whether an account may redeem a coupon now (refusals are values).
`apply_discounts` applies the discounts active in a cycle to an invoice's lines, in priority
order, and explains what each one did, for the redemption record:

- a percentage is taken from what is left of the targeted lines after higher-priority
  discounts (so 10 % then 10 % is 19 %), rounded half-up once per discount;
- a fixed amount is capped at what is left of the targeted lines;
- nothing makes a line or the invoice negative: credit lines are never discounted and a
  discount is capped at the invoice's remaining total;
- an exclusive discount applies only if no other discount has applied, and then alone.

The amount of each discount is spread over its lines by largest remainder (so the parts add
up exactly) and returned as EN 16931 document allowances, one per discount and VAT rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from telbill.core.clock import ensure_utc
from telbill.core.errors import ValidationFailed
from telbill.core.money import Money, Rounding, currency
from telbill.invoicing.content import DocumentAllowance, InvoiceLine, TaxCategory

DISCOUNT_ROUNDING = Rounding.HALF_UP


class DiscountKind(StrEnum):
    PERCENTAGE = "percentage"
    AMOUNT = "amount"


class Duration(StrEnum):
    ONCE = "once"
    CYCLES = "cycles"
    FOREVER = "forever"


class Scope(StrEnum):
    INVOICE = "invoice"
    PRODUCT = "product"  # targets are product/offer codes
    CHARGE_KIND = "charge_kind"  # targets are charge kinds (recurring, usage, one_time, ...)


class Stacking(StrEnum):
    STACKABLE = "stackable"
    EXCLUSIVE = "exclusive"


class DiscountSource(StrEnum):
    COUPON = "coupon"
    ACCOUNT = "account"
    BUNDLE = "bundle"


@dataclass(frozen=True, slots=True)
class DiscountTerms:
    """What a discount takes off, for how long, from which lines, and how it stacks."""

    kind: DiscountKind
    value: Decimal  # percent (0 < value ≤ 100) or an amount in `currency`
    currency: str | None = None
    duration: Duration = Duration.ONCE
    cycles: int | None = None  # for Duration.CYCLES
    scope: Scope = Scope.INVOICE
    targets: frozenset[str] = frozenset()
    stacking: Stacking = Stacking.STACKABLE
    priority: int = 100  # lower applies first
    charge_kinds: frozenset[str] = frozenset()  # when set, only lines of these kinds (within the scope)

    def __post_init__(self) -> None:
        problems = []
        if self.kind is DiscountKind.PERCENTAGE and not 0 < self.value <= 100:
            problems.append(f"a percentage must be in (0, 100], got {self.value}")
        if self.kind is DiscountKind.AMOUNT:
            if self.currency is None:
                problems.append("an amount discount needs a currency")
            else:
                currency(self.currency)
            if self.value <= 0:
                problems.append(f"an amount discount must be positive, got {self.value}")
        if (self.duration is Duration.CYCLES) != (self.cycles is not None) or (self.cycles or 1) < 1:
            problems.append("give a number of cycles ≥ 1 exactly when the duration is 'cycles'")
        if (self.scope is Scope.INVOICE) != (not self.targets):
            problems.append("product and charge-kind discounts need targets; invoice discounts have none")
        if problems:
            raise ValidationFailed("invalid discount terms", details=problems)

    def applies_in(self, cycle_number: int, first_cycle: int) -> bool:
        """Cycles are the account's bill cycles, counted from 1; `first_cycle` is when it started."""
        if cycle_number < first_cycle:
            return False
        if self.duration is Duration.ONCE:
            return cycle_number == first_cycle
        if self.duration is Duration.CYCLES:
            return cycle_number < first_cycle + (self.cycles or 0)
        return True


# --- redemption ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Eligibility:
    new_customers_only: bool = False  # no prior subscription
    segments: frozenset[str] | None = None  # None: any segment
    countries: frozenset[str] | None = None  # None: any country


@dataclass(frozen=True, slots=True)
class Coupon:
    code: str
    description: str
    terms: DiscountTerms
    eligibility: Eligibility = Eligibility()
    valid_from: datetime | None = None
    valid_until: datetime | None = None  # exclusive
    max_redemptions: int | None = None  # in total, None: unlimited
    max_per_account: int | None = 1


@dataclass(frozen=True, slots=True)
class AccountFacts:
    has_prior_subscription: bool
    country: str
    segment: str | None = None


@dataclass(frozen=True, slots=True)
class RedemptionCounts:
    total: int = 0
    for_account: int = 0


class Refusal(StrEnum):
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    NOT_A_NEW_CUSTOMER = "not_a_new_customer"
    SEGMENT_NOT_ELIGIBLE = "segment_not_eligible"
    COUNTRY_NOT_ELIGIBLE = "country_not_eligible"
    MAX_REDEMPTIONS_REACHED = "max_redemptions_reached"
    MAX_PER_ACCOUNT_REACHED = "max_per_account_reached"


@dataclass(frozen=True, slots=True)
class RedemptionCheck:
    refusals: tuple[Refusal, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.refusals


def check_redemption(
    coupon: Coupon, facts: AccountFacts, counts: RedemptionCounts, at: datetime
) -> RedemptionCheck:
    """Every reason the account may not redeem the coupon at `at` (none: it may)."""
    at = ensure_utc(at)
    rules = coupon.eligibility
    failed = [
        (coupon.valid_from is not None and at < ensure_utc(coupon.valid_from), Refusal.NOT_YET_VALID),
        (coupon.valid_until is not None and at >= ensure_utc(coupon.valid_until), Refusal.EXPIRED),
        (rules.new_customers_only and facts.has_prior_subscription, Refusal.NOT_A_NEW_CUSTOMER),
        (rules.segments is not None and facts.segment not in rules.segments, Refusal.SEGMENT_NOT_ELIGIBLE),
        (rules.countries is not None and facts.country not in rules.countries, Refusal.COUNTRY_NOT_ELIGIBLE),
        (_reached(counts.total, coupon.max_redemptions), Refusal.MAX_REDEMPTIONS_REACHED),
        (_reached(counts.for_account, coupon.max_per_account), Refusal.MAX_PER_ACCOUNT_REACHED),
    ]
    return RedemptionCheck(tuple(reason for hit, reason in failed if hit))


def _reached(count: int, limit: int | None) -> bool:
    return limit is not None and count >= limit


# --- application -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActiveDiscount:
    """A discount in force on an account: a redeemed coupon, a personalised or a bundle discount."""

    discount_id: str  # redemption id, account discount id or bundle id
    source: DiscountSource
    description: str  # shown on the invoice as the allowance reason
    terms: DiscountTerms
    first_cycle: int = 1
    required_products: frozenset[str] = frozenset()  # a bundle applies only if all are billed


def from_coupon(coupon: Coupon, redemption_id: str, first_cycle: int) -> ActiveDiscount:
    return ActiveDiscount(redemption_id, DiscountSource.COUPON, coupon.description, coupon.terms, first_cycle)


def bundle_discount(
    bundle_id: str, description: str, products: frozenset[str], terms: DiscountTerms
) -> ActiveDiscount:
    """A discount on the lines of a set of products, given only when all of them are billed."""
    if terms.scope is not Scope.PRODUCT or terms.targets != products:
        raise ValidationFailed("a bundle discount targets exactly the bundle's products")
    return ActiveDiscount(bundle_id, DiscountSource.BUNDLE, description, terms, required_products=products)


class Skipped(StrEnum):
    OUTSIDE_ITS_CYCLES = "outside_its_cycles"
    EXCLUDED_BY_EXCLUSIVE = "excluded_by_exclusive"
    BUNDLE_INCOMPLETE = "bundle_incomplete"
    NO_MATCHING_LINES = "no_matching_lines"
    NOTHING_LEFT = "nothing_left"
    CURRENCY_MISMATCH = "currency_mismatch"


@dataclass(frozen=True, slots=True)
class LineAllocation:
    line_id: str
    discount_id: str
    amount: Decimal  # positive, taken off that line's net amount


@dataclass(frozen=True, slots=True)
class DiscountApplication:
    """What one discount did on one invoice: the redemption record's content."""

    discount_id: str
    source: DiscountSource
    cycle_number: int
    amount: Money  # zero when skipped
    line_ids: tuple[str, ...]
    skipped: Skipped | None
    explanation: str

    @property
    def applied(self) -> bool:
        return self.skipped is None


@dataclass(frozen=True, slots=True)
class DiscountResult:
    allowances: tuple[DocumentAllowance, ...]
    allocations: tuple[LineAllocation, ...]
    applications: tuple[DiscountApplication, ...] = field(default_factory=tuple)

    def discounted_net(self, line: InvoiceLine) -> Decimal:
        """A line's net amount after its share of the discounts."""
        taken = sum((a.amount for a in self.allocations if a.line_id == line.line_id), Decimal(0))
        return line.net_amount - taken


@dataclass(slots=True)
class _Left:
    """What is still discountable while discounts are applied in order (mutable, local)."""

    code: str
    per_line: dict[str, Money]
    invoice: Money
    applied_any: bool = False
    exclusive_applied: bool = False


def _matches(terms: DiscountTerms, line: InvoiceLine) -> bool:
    if terms.charge_kinds and line.charge_kind not in terms.charge_kinds:
        return False
    if terms.scope is Scope.PRODUCT:
        return line.product_code in terms.targets
    if terms.scope is Scope.CHARGE_KIND:
        return line.charge_kind in terms.targets
    return True


def _why_not(
    discount: ActiveDiscount, lines: Sequence[InvoiceLine], cycle: int, left: _Left
) -> Skipped | None:
    terms = discount.terms
    if not terms.applies_in(cycle, discount.first_cycle):
        return Skipped.OUTSIDE_ITS_CYCLES
    if left.exclusive_applied or (terms.stacking is Stacking.EXCLUSIVE and left.applied_any):
        return Skipped.EXCLUDED_BY_EXCLUSIVE
    if terms.kind is DiscountKind.AMOUNT and terms.currency != left.code:
        return Skipped.CURRENCY_MISMATCH
    billed = {line.product_code for line in lines if line.net_amount > 0}
    if not discount.required_products <= billed:
        return Skipped.BUNDLE_INCOMPLETE
    if not any(_matches(terms, line) and line.net_amount > 0 for line in lines):
        return Skipped.NO_MATCHING_LINES
    return None


def _wanted(terms: DiscountTerms, base: Money) -> Money:
    if terms.kind is DiscountKind.PERCENTAGE:
        return (base * terms.value / 100).rounded(DISCOUNT_ROUNDING)
    return Money(terms.value, base.currency).rounded(DISCOUNT_ROUNDING)


def _explain(discount: ActiveDiscount, base: Money, wanted: Money, amount: Money, ids: list[str]) -> str:
    terms = discount.terms
    what = f"{terms.value}% of {base}" if terms.kind is DiscountKind.PERCENTAGE else f"{wanted} off"
    capped = f", capped from {wanted}" if amount != wanted else ""
    return f"{discount.description}: {what} = {amount}{capped} on lines {', '.join(ids)}"


def _apply_one(
    discount: ActiveDiscount, lines: Sequence[InvoiceLine], left: _Left
) -> tuple[Money, list[LineAllocation], str]:
    targets = [ln for ln in lines if _matches(discount.terms, ln) and left.per_line[ln.line_id]]
    ids = [ln.line_id for ln in targets]
    base = sum((left.per_line[i] for i in ids), Money.zero(left.code))
    wanted = _wanted(discount.terms, base)
    amount = min(wanted, base, left.invoice)
    if not amount:
        return amount, [], f"{discount.description}: nothing left to discount"
    parts = amount.allocate([left.per_line[i].amount for i in ids])
    allocations = []
    for line_id, part in zip(ids, parts, strict=True):
        left.per_line[line_id] = left.per_line[line_id] - part
        if part:
            allocations.append(LineAllocation(line_id, discount.discount_id, part.amount))
    left.invoice = left.invoice - amount
    return amount, allocations, _explain(discount, base, wanted, amount, ids)


_NOTHING = DiscountResult((), (), ())


def apply_discounts(
    lines: Sequence[InvoiceLine],
    active_discounts: Sequence[ActiveDiscount],
    cycle_number: int,
    *,
    currency_code: str,
) -> DiscountResult:
    """Apply the discounts in force in `cycle_number` to an invoice's lines (see module docstring)."""
    quantum = currency(currency_code).quantum
    unrounded = [ln.line_id for ln in lines if ln.net_amount != ln.net_amount.quantize(quantum)]
    if unrounded:
        raise ValidationFailed("discounts apply to rounded lines", details=[f"line {i}" for i in unrounded])
    if not active_discounts:
        return _NOTHING  # most invoices: no discount in force
    zero = Money.zero(currency_code)
    left = _Left(
        currency_code,
        {ln.line_id: max(Money(ln.net_amount, currency_code), zero) for ln in lines},
        max(sum((Money(ln.net_amount, currency_code) for ln in lines), zero), zero),
    )
    applications, allocations = [], []
    for discount in sorted(active_discounts, key=lambda d: (d.terms.priority, d.discount_id)):
        skipped = _why_not(discount, lines, cycle_number, left)
        amount, parts, explanation = zero, [], f"{discount.description}: not applied ({skipped})"
        if skipped is None:
            amount, parts, explanation = _apply_one(discount, lines, left)
            skipped = None if amount else Skipped.NOTHING_LEFT
        if skipped is None:
            left.applied_any = True
            left.exclusive_applied = discount.terms.stacking is Stacking.EXCLUSIVE
        allocations.extend(parts)
        ids = tuple(p.line_id for p in parts)
        applications.append(
            DiscountApplication(
                discount.discount_id, discount.source, cycle_number, amount, ids, skipped, explanation
            )
        )
    return DiscountResult(
        _allowances(lines, active_discounts, allocations), tuple(allocations), tuple(applications)
    )


def _allowances(
    lines: Sequence[InvoiceLine], discounts: Sequence[ActiveDiscount], allocations: list[LineAllocation]
) -> tuple[DocumentAllowance, ...]:
    """One document allowance per discount and VAT (category, rate), in application order."""
    by_id = {ln.line_id: ln for ln in lines}
    description = {d.discount_id: d.description for d in discounts}
    grouped: dict[tuple[str, TaxCategory, Decimal], Decimal] = {}
    for a in allocations:
        line = by_id[a.line_id]
        key = (a.discount_id, line.tax_category, line.tax_rate)
        grouped[key] = grouped.get(key, Decimal(0)) + a.amount
    return tuple(
        DocumentAllowance(description[d_id], amount, category, rate)
        for (d_id, category, rate), amount in grouped.items()
    )
