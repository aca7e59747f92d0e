"""Discounts: redemption rules as values, application order, caps, and nothing ever negative."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from telbill.billing.discounts import (
    AccountFacts,
    ActiveDiscount,
    Coupon,
    DiscountKind,
    DiscountSource,
    DiscountTerms,
    Duration,
    Eligibility,
    RedemptionCounts,
    Refusal,
    Scope,
    Skipped,
    Stacking,
    apply_discounts,
    bundle_discount,
    check_redemption,
    from_coupon,
)
from telbill.billing.totals import compute_totals
from telbill.core.money import Money
from telbill.invoicing.content import InvoiceLine, TaxCategory

EUR = "EUR"
PCT = DiscountKind.PERCENTAGE
AMT = DiscountKind.AMOUNT
NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


def line(line_id: str, amount: str, product: str = "MOBILE-S", rate: str = "20", kind: str = "recurring"):
    return InvoiceLine(
        line_id=line_id,
        description=product,
        quantity=Decimal(1),
        unit_code="C62",
        unit_price=abs(Decimal(amount)),
        net_amount=Decimal(amount),
        tax_category=TaxCategory.STANDARD,
        tax_rate=Decimal(rate),
        product_code=product,
        charge_kind=kind,
    )


def discount(
    discount_id: str, terms: DiscountTerms, first_cycle: int = 1, source=DiscountSource.COUPON
) -> ActiveDiscount:
    return ActiveDiscount(discount_id, source, f"Discount {discount_id}", terms, first_cycle)


def percent(value: str, **kw) -> DiscountTerms:
    return DiscountTerms(PCT, Decimal(value), **kw)


def amount(value: str, **kw) -> DiscountTerms:
    return DiscountTerms(AMT, Decimal(value), currency=EUR, **kw)


def run(lines, discounts, cycle: int = 1):
    return apply_discounts(lines, discounts, cycle, currency_code=EUR)


# --- redemption ----------------------------------------------------------------------------------

WELCOME = Coupon(
    code="WELCOME20",
    description="Welcome offer −20 % for 3 months",
    terms=percent("20", duration=Duration.CYCLES, cycles=3),
    eligibility=Eligibility(new_customers_only=True, segments=frozenset({"residential"}), countries=None),
    valid_from=datetime(2027, 1, 1, tzinfo=UTC),
    valid_until=datetime(2027, 4, 1, tzinfo=UTC),
    max_redemptions=1000,
    max_per_account=1,
)
NEWCOMER = AccountFacts(has_prior_subscription=False, country="FR", segment="residential")


def test_redemption_is_allowed_for_an_eligible_new_customer():
    assert check_redemption(WELCOME, NEWCOMER, RedemptionCounts(total=999), NOW).ok


def test_max_redemptions_reached():
    check = check_redemption(WELCOME, NEWCOMER, RedemptionCounts(total=1000), NOW)
    assert check.refusals == (Refusal.MAX_REDEMPTIONS_REACHED,)
    again = check_redemption(WELCOME, NEWCOMER, RedemptionCounts(total=10, for_account=1), NOW)
    assert again.refusals == (Refusal.MAX_PER_ACCOUNT_REACHED,)


def test_every_refusal_is_reported():
    customer = AccountFacts(has_prior_subscription=True, country="BE", segment="business")
    coupon = Coupon("BE-ONLY", "x", percent("5"), Eligibility(countries=frozenset({"FR"})))
    assert check_redemption(coupon, customer, RedemptionCounts(), NOW).refusals == (
        Refusal.COUNTRY_NOT_ELIGIBLE,
    )
    late = datetime(2027, 4, 1, tzinfo=UTC)  # valid_until is exclusive
    assert check_redemption(WELCOME, customer, RedemptionCounts(), late).refusals == (
        Refusal.EXPIRED,
        Refusal.NOT_A_NEW_CUSTOMER,
        Refusal.SEGMENT_NOT_ELIGIBLE,
    )
    early = datetime(2026, 12, 31, 23, tzinfo=UTC)
    assert Refusal.NOT_YET_VALID in check_redemption(WELCOME, NEWCOMER, RedemptionCounts(), early).refusals


# --- application ---------------------------------------------------------------------------------


def test_coupon_for_three_cycles_applies_on_cycles_1_to_3_not_4():
    """20 % of 29.99 = 5.998 → 6.00 on cycles 1, 2 and 3 after redemption; nothing on cycle 4."""
    active = from_coupon(WELCOME, "R-1", first_cycle=1)
    lines = [line("1", "29.99")]
    for cycle in (1, 2, 3):
        result = run(lines, [active], cycle)
        assert [a.amount for a in result.allowances] == [Decimal("6.00")]
        assert result.applications[0].applied
    (fourth,) = run(lines, [active], 4).applications
    assert (fourth.skipped, fourth.amount) == (Skipped.OUTSIDE_ITS_CYCLES, Money.zero(EUR))
    assert run(lines, [from_coupon(WELCOME, "R-2", first_cycle=5)], 4).allowances == ()


def test_stacking_order_follows_priority():
    """Invoice 50.00. 10 % first (5.00, 45.00 left) then 5.00 off → 40.00;
    5.00 off first (45.00 left) then 10 % (4.50) → 40.50."""
    lines = [line("1", "50.00")]
    pct_first = run(lines, [discount("A", percent("10", priority=1)), discount("B", amount("5", priority=2))])
    assert [a.amount.amount for a in pct_first.applications] == [Decimal("5.00"), Decimal("5.00")]
    amt_first = run(lines, [discount("A", percent("10", priority=2)), discount("B", amount("5", priority=1))])
    assert [(a.discount_id, a.amount.amount) for a in amt_first.applications] == [
        ("B", Decimal("5.00")),
        ("A", Decimal("4.50")),
    ]


def test_exclusive_discount_applies_alone():
    lines = [line("1", "50.00")]
    exclusive_first = run(
        lines,
        [discount("X", percent("30", stacking=Stacking.EXCLUSIVE, priority=1)), discount("B", amount("5"))],
    )
    assert [(a.discount_id, a.skipped) for a in exclusive_first.applications] == [
        ("X", None),
        ("B", Skipped.EXCLUDED_BY_EXCLUSIVE),
    ]
    exclusive_second = run(
        lines,
        [
            discount("X", percent("30", stacking=Stacking.EXCLUSIVE, priority=9)),
            discount("B", amount("5", priority=1)),
        ],
    )
    assert [(a.discount_id, a.skipped) for a in exclusive_second.applications] == [
        ("B", None),
        ("X", Skipped.EXCLUDED_BY_EXCLUSIVE),
    ]


def test_percentage_on_one_product():
    """50 % off MOBILE-L only: 49.99 × 50 % = 24.995 → 25.00, at that line's VAT rate; the router
    and the e-magazine are untouched."""
    lines = [line("1", "49.99", "MOBILE-L"), line("2", "99.00", "ROUTER"), line("3", "4.99", "MAG", "5.5")]
    result = run(lines, [discount("P", percent("50", scope=Scope.PRODUCT, targets=frozenset({"MOBILE-L"})))])
    (allowance,) = result.allowances
    assert (allowance.amount, allowance.tax_rate) == (Decimal("25.00"), Decimal("20"))
    assert [result.discounted_net(ln) for ln in lines] == [
        Decimal("24.99"),
        Decimal("99.00"),
        Decimal("4.99"),
    ]


def test_amount_is_capped_at_the_line():
    """10.00 off the TV option whose line is 7.99: 7.99 taken, the rest is not carried over."""
    lines = [line("1", "7.99", "TV"), line("2", "29.99")]
    result = run(lines, [discount("T", amount("10", scope=Scope.PRODUCT, targets=frozenset({"TV"})))])
    (application,) = result.applications
    assert application.amount == Money.of("7.99", EUR)
    assert "capped from 10.00 EUR" in application.explanation
    assert result.discounted_net(lines[0]) == 0


def test_discount_on_a_charge_kind():
    lines = [line("1", "29.99"), line("2", "12.40", kind="usage")]
    result = run(lines, [discount("U", percent("50", scope=Scope.CHARGE_KIND, targets=frozenset({"usage"})))])
    assert result.allocations[0].line_id == "2"
    assert result.allocations[0].amount == Decimal("6.20")


def test_credit_lines_are_never_discounted_and_the_invoice_never_goes_negative():
    """Lines +30.00 and −25.00 (a proration credit): a 10.00 coupon is capped at 5.00."""
    lines = [line("1", "30.00"), line("2", "-25.00")]
    result = run(lines, [discount("C", amount("10"))])
    assert result.applications[0].amount == Money.of("5.00", EUR)
    assert result.discounted_net(lines[1]) == Decimal("-25.00")


def test_invoice_discount_is_split_by_vat_rate():
    """10.00 off an invoice of 30.00 at 20 % and 10.00 at 5.5 %: 7.50 and 2.50, one allowance each."""
    lines = [line("1", "30.00"), line("2", "10.00", "MAG", "5.5")]
    result = run(lines, [discount("I", amount("10"))])
    assert [(a.tax_rate, a.amount) for a in result.allowances] == [
        (Decimal("20"), Decimal("7.50")),
        (Decimal("5.5"), Decimal("2.50")),
    ]


def test_bundle_discount_needs_every_product_of_the_bundle():
    products = frozenset({"MOBILE-L", "FIBER"})
    terms = percent("10", duration=Duration.FOREVER, scope=Scope.PRODUCT, targets=products)
    bundle = bundle_discount("B-1", "Mobile + Fiber bundle −10 %", products, terms)
    both = [line("1", "49.99", "MOBILE-L"), line("2", "39.99", "FIBER"), line("3", "5.00", "TV")]
    (application,) = run(both, [bundle], cycle=12).applications
    assert application.amount == Money.of("9.00", EUR)  # 10 % of 89.98 = 8.998 → 9.00
    (alone,) = run(both[:1], [bundle]).applications
    assert alone.skipped is Skipped.BUNDLE_INCOMPLETE


def test_account_discount_forever_and_currency_mismatch():
    personal = ActiveDiscount(
        "A-7", DiscountSource.ACCOUNT, "Loyalty", percent("5", duration=Duration.FOREVER), first_cycle=3
    )
    assert run([line("1", "100.00")], [personal], cycle=40).applications[0].amount == Money.of("5.00", EUR)
    usd = discount("U", DiscountTerms(AMT, Decimal("5"), currency="USD"))
    assert run([line("1", "100.00")], [usd]).applications[0].skipped is Skipped.CURRENCY_MISMATCH


# --- properties ----------------------------------------------------------------------------------

PRODUCTS = ["MOBILE-S", "MOBILE-L", "TV", "FIBER"]


@st.composite
def terms(draw: st.DrawFn) -> DiscountTerms:
    scope = draw(st.sampled_from(list(Scope)))
    targets = (
        frozenset()
        if scope is Scope.INVOICE
        else frozenset(
            draw(
                st.sets(
                    st.sampled_from(PRODUCTS if scope is Scope.PRODUCT else ["recurring", "usage"]),
                    min_size=1,
                )
            )
        )
    )
    stacking = draw(st.sampled_from(list(Stacking)))
    priority = draw(st.integers(0, 5))
    if draw(st.booleans()):
        value = Decimal(draw(st.integers(1, 10000))).scaleb(-2)
        return DiscountTerms(PCT, value, scope=scope, targets=targets, stacking=stacking, priority=priority)
    value = Decimal(draw(st.integers(1, 20000))).scaleb(-2)
    return DiscountTerms(AMT, value, EUR, scope=scope, targets=targets, stacking=stacking, priority=priority)


@st.composite
def invoice_lines(draw: st.DrawFn) -> list[InvoiceLine]:
    count = draw(st.integers(1, 6))
    return [
        line(
            str(i),
            str(Decimal(draw(st.integers(-5000, 20000))).scaleb(-2)),
            draw(st.sampled_from(PRODUCTS)),
            draw(st.sampled_from(["20", "5.5"])),
            draw(st.sampled_from(["recurring", "usage"])),
        )
        for i in range(count)
    ]


@given(invoice_lines(), st.lists(terms(), max_size=4))
def test_discounts_never_make_a_line_or_the_invoice_negative(lines, all_terms):
    discounts = [discount(f"D{i}", t) for i, t in enumerate(all_terms)]
    result = run(lines, discounts)
    for ln in lines:
        after = result.discounted_net(ln)
        assert after >= 0 if ln.net_amount >= 0 else after == ln.net_amount
    allowances = sum(a.amount for a in result.allowances)
    lines_total = sum(ln.net_amount for ln in lines)
    assert lines_total - allowances >= min(lines_total, 0)
    assert allowances == sum(a.amount.amount for a in result.applications)
    assert allowances == sum(a.amount for a in result.allocations)
    _, totals = compute_totals(lines, result.allowances, EUR)
    assert totals.tax_basis_total == lines_total - allowances
