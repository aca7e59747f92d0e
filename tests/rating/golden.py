"""The catalog of the golden tests: Paris time bands, per-second band prices, slot patterns."""

from __future__ import annotations

import yaml

from telbill.catalog.tariffs import RatingCatalog
from telbill.rating.tariff import CompiledRating, compile_rating

GOLDEN = """
destination_sets:
  - {code: fr, prefixes: ["33"]}
  - {code: s60_1, prefixes: ["4401"]}
  - {code: s30_6, prefixes: ["4402"]}
  - {code: capped, prefixes: ["4403"]}
  - {code: minimum, prefixes: ["4404"]}
zones:
  - {code: eu, networks: ["262", "214-07"], like_home: true}
  - {code: world, default: true}
time_bands:
  - code: paris
    timezone: Europe/Paris
    holidays: {country: FR}
    rules:
      - {band: night, days: [all]}
      - {band: day, days: [weekdays], hours: ["08:00-20:00"], priority: 1}
      - {band: evening, days: [weekdays], hours: ["20:00-24:00"], priority: 1}
      - {band: weekend, days: [weekend], priority: 1}
      - {band: holiday, days: [holiday], priority: 2}
tariffs:
  - code: golden
    versions:
      - version: 1
        effective_from: 2020-01-01
        currency: EUR
        time_bands: paris
        rates:
          - {destination_set: fr, band: day, price: "0.60", increments: "1"}
          - {destination_set: fr, band: evening, price: "0.30", increments: "1"}
          - {destination_set: fr, band: night, price: "0.12", increments: "1"}
          - {destination_set: fr, band: weekend, price: "0.06", increments: "1"}
          - {destination_set: fr, band: holiday, price: "0.03", increments: "1"}
          - {destination_set: s60_1, price: "0.60", increments: "60/1", connect_fee: "0.10"}
          - {destination_set: s30_6, price: "0.60", increments: "30/6"}
          - {destination_set: capped, price: "6.00", increments: "60/60", max_cost: "10.00"}
          - {destination_set: minimum, price: "0.06", increments: "1", minimum_charge: "0.50"}
          - {usage_type: sms, price: "0.10", per: 1}
          - {usage_type: data, price: "1.00", per: 1MB, increments: "1MB/100KB"}
          - {usage_type: data, zone: world, price: "5.00", per: 1MB, increments: "1MB"}
  - code: rounding_up
    versions:
      - {version: 1, effective_from: 2020-01-01, currency: EUR, rounding: {decimals: 2, method: up},
         rates: [{price: "0.10", increments: "1"}]}
  - code: rounding_down
    versions:
      - {version: 1, effective_from: 2020-01-01, currency: EUR, rounding: {decimals: 2, method: down},
         rates: [{price: "0.10", increments: "1"}]}
  - code: rounding_half_up
    versions:
      - {version: 1, effective_from: 2020-01-01, currency: EUR, rounding: {decimals: 2, method: half_up},
         rates: [{price: "0.10", increments: "1"}]}
  - code: banded_versions
    fallback: golden
    versions:
      - {version: 1, effective_from: 2026-01-01, effective_to: 2026-03-28, currency: EUR, time_bands: paris,
         rates: [{destination_set: s60_1, band: day, price: "1.20", increments: "60/1"},
                 {destination_set: s60_1, price: "0.60", increments: "60/1"}]}
      - {version: 2, effective_from: 2026-03-28, currency: EUR, time_bands: paris,
         rates: [{destination_set: s60_1, band: evening, price: "0.30", increments: "30/6"},
                 {destination_set: s60_1, price: "0.90", increments: "1"}]}
  - code: versioned
    versions:
      - {version: 1, effective_from: 2026-01-01, effective_to: 2026-07-01, currency: EUR,
         rates: [{price: "0.60", increments: "60/60"}]}
      - {version: 2, effective_from: 2026-07-01, currency: EUR, rates: [{price: "0.30", increments: "60/60"}]}
"""


def golden() -> CompiledRating:
    return compile_rating(RatingCatalog.model_validate(yaml.safe_load(GOLDEN)))
