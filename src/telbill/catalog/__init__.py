"""Catalog: products, offers and their versions, charges, pricing models, allowances, phases.

Other contexts use only what is named here. Subscriptions store `offer_code` + `offer_version`
(the version number) and read prices back with `offer_version(session, code, number)`.
"""

from telbill.catalog.charges import (
    Allowance,
    Charge,
    EvergreenPhase,
    FixedTermPhase,
    MinimumCommitment,
    OneTimeCharge,
    Phase,
    RecurringCharge,
    TrialPhase,
    UsageCharge,
)
from telbill.catalog.document import CatalogDocument, CatalogHeader
from telbill.catalog.offers import (
    GrandfatheredPolicy,
    NoticePolicy,
    Offer,
    OfferKind,
    OfferVersion,
    Product,
    ProductKind,
)
from telbill.catalog.parsing import (
    catalog_from_data,
    dump_catalog_yaml,
    parse_catalog_file,
    parse_catalog_text,
)
from telbill.catalog.pricing import (
    PriceResult,
    PriceStep,
    price_flat,
    price_graduated,
    price_of,
    price_package,
    price_per_unit,
    price_percentage,
    price_volume,
)
from telbill.catalog.pricing_models import PricingModel
from telbill.catalog.service import (
    LoadReport,
    PublishedVersion,
    current_rating,
    export_catalog,
    get_offer,
    list_offers,
    list_products,
    load_catalog,
    offer_version,
    offer_version_at,
)
from telbill.catalog.tariffs import RatingCatalog
from telbill.catalog.types import Period, price_in
from telbill.catalog.units import Unit, UsageType, convert
from telbill.catalog.versions import version_for_cycle, version_for_new_subscription

__all__ = [
    "Allowance",
    "CatalogDocument",
    "CatalogHeader",
    "Charge",
    "EvergreenPhase",
    "FixedTermPhase",
    "GrandfatheredPolicy",
    "LoadReport",
    "MinimumCommitment",
    "NoticePolicy",
    "Offer",
    "OfferKind",
    "OfferVersion",
    "OneTimeCharge",
    "Period",
    "Phase",
    "PriceResult",
    "PriceStep",
    "PricingModel",
    "Product",
    "ProductKind",
    "PublishedVersion",
    "RatingCatalog",
    "RecurringCharge",
    "TrialPhase",
    "Unit",
    "UsageCharge",
    "UsageType",
    "catalog_from_data",
    "convert",
    "current_rating",
    "dump_catalog_yaml",
    "export_catalog",
    "get_offer",
    "list_offers",
    "list_products",
    "load_catalog",
    "offer_version",
    "offer_version_at",
    "parse_catalog_file",
    "parse_catalog_text",
    "price_flat",
    "price_graduated",
    "price_in",
    "price_of",
    "price_package",
    "price_per_unit",
    "price_percentage",
    "price_volume",
    "version_for_cycle",
    "version_for_new_subscription",
]
