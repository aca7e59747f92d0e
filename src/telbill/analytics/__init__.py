"""analytics context: MRR, churn, ARPU, ageing, promotion effectiveness."""

from telbill.analytics.promotions import (
    AccountFact,
    ApplicationFact,
    CouponEffectiveness,
    EffectivenessData,
    InvoiceFact,
    InvoiceSource,
    InvoiceStoreRevenue,
    RedemptionFact,
    Retention,
    SubscriptionFact,
    coupon_effectiveness,
    load_effectiveness_data,
)

__all__ = [
    "AccountFact",
    "ApplicationFact",
    "CouponEffectiveness",
    "EffectivenessData",
    "InvoiceFact",
    "InvoiceSource",
    "InvoiceStoreRevenue",
    "RedemptionFact",
    "Retention",
    "SubscriptionFact",
    "coupon_effectiveness",
    "load_effectiveness_data",
]
