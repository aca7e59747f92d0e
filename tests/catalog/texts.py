"""Small catalogs written as text, shared by the catalog tests."""

from __future__ import annotations

import textwrap

HEADER = """\
catalog: {name: test, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
  - {code: fibre, name: Fibre, kind: fixed_broadband}
"""

BASE = (
    HEADER
    + """\
offers:
  - code: plan-a
    name: Plan A
    kind: plan
    products: [mobile]
    price_update: {policy: notice, notice_days: 30}
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "10.00", GBP: "9.00"}}
          - type: usage
            code: data
            usage_type: data
            unit: MB
            pricing:
              model: graduated
              tiers:
                - {from: 0, up_to: 100, unit_price: {EUR: "0.10", GBP: "0.09"}}
                - {from: 100, up_to: null, unit_price: {EUR: "0.05", GBP: "0.04"}}
        allowances:
          - {code: data, usage_type: data, quantity: 5, unit: GB}
  - code: fibre-a
    name: Fibre A
    kind: plan
    products: [fibre]
    price_update: {policy: grandfathered}
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "30.00", GBP: "25.00"}}
"""
)

NEW_VERSION = """\
      - effective_from: 2026-03-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "30.00", GBP: "25.00"}}
"""

WITH_V2 = BASE.replace(
    '          - {type: recurring, code: fee, price: {EUR: "30.00", GBP: "25.00"}}\n',
    '          - {type: recurring, code: fee, price: {EUR: "30.00", GBP: "25.00"}}\n'
    + NEW_VERSION.replace('"30.00"', '"32.00"'),
)


def dedent(text: str) -> str:
    return textwrap.dedent(text)
