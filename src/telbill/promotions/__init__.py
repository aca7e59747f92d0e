"""promotions context: coupons, promo codes, redemptions, personalised and bundle discounts.

The discount arithmetic is pure and lives in `telbill.billing.discounts`; this context stores
coupons and who redeemed them, tells the bill run which discounts are in force for a period
(`active_discounts`) and records what they did (`record_applications`). Services take a
session and a clock, append outbox events and never commit.
"""

from telbill.promotions.active import BUNDLE_PRIORITY, active_discounts, cycle_number_of, record_applications
from telbill.promotions.model import AccountDiscountRow, CouponRow, PromoCodeRow
from telbill.promotions.report import (
    EffectivenessRows,
    effectiveness_rows,
    has_invoice_store,
    issued_invoice_totals,
)
from telbill.promotions.schemas import AccountDiscountCreate, CouponCreate, PromoCodeCreate, Redemption, parse
from telbill.promotions.service import (
    RedemptionLimitReached,
    RedemptionRefused,
    account_discounts_of,
    add_promo_code,
    archive_coupon,
    create_coupon,
    get_coupon,
    get_redemption,
    grant_account_discount,
    list_coupons,
    promo_codes_of,
    redeem,
    redemptions_of,
    revoke_redemption,
)
from telbill.promotions.terms import discount_id

__all__ = [
    "BUNDLE_PRIORITY",
    "AccountDiscountCreate",
    "AccountDiscountRow",
    "CouponCreate",
    "CouponRow",
    "EffectivenessRows",
    "PromoCodeCreate",
    "PromoCodeRow",
    "Redemption",
    "RedemptionLimitReached",
    "RedemptionRefused",
    "account_discounts_of",
    "active_discounts",
    "add_promo_code",
    "archive_coupon",
    "create_coupon",
    "cycle_number_of",
    "discount_id",
    "effectiveness_rows",
    "get_coupon",
    "get_redemption",
    "grant_account_discount",
    "has_invoice_store",
    "issued_invoice_totals",
    "list_coupons",
    "parse",
    "promo_codes_of",
    "record_applications",
    "redeem",
    "redemptions_of",
    "revoke_redemption",
]
