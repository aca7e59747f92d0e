"""Validation: every problem is reported with the file, the key path, the line and what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telbill.catalog import (
    CatalogDocument,
    Offer,
    OfferVersion,
    RecurringCharge,
    catalog_from_data,
    dump_catalog_yaml,
    parse_catalog_file,
    parse_catalog_text,
)
from telbill.core.errors import ValidationFailed
from tests.catalog.texts import BASE, HEADER, dedent


def problems(text: str, source: str = "cat.yaml") -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        parse_catalog_text(text, source)
    assert info.value.message.startswith(f"{source}: ")
    return info.value.details


def line_of(text: str, snippet: str) -> int:
    """1-based line of the first line containing `snippet` (so tests do not count lines by hand)."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if snippet in line)


def one_offer(version_body: str, offer_extra: str = "") -> str:
    return (
        HEADER
        + "offers:\n  - code: p\n    name: P\n    kind: plan\n    products: [mobile]\n"
        + offer_extra
        + "    versions:\n      - effective_from: 2026-01-01\n"
        + version_body
    )


def test_a_valid_catalog_parses_into_frozen_specs():
    doc = parse_catalog_text(BASE, "base.yaml")
    plan = doc.offer("plan-a")
    assert plan.versions[0].effective_from == datetime(2026, 1, 1, tzinfo=UTC)
    fee = plan.versions[0].charges[0]
    assert isinstance(fee, RecurringCharge)
    assert fee.price == {"EUR": Decimal("10.00"), "GBP": Decimal("9.00")}
    assert plan.versions[0].currencies() == {"EUR", "GBP"}
    with pytest.raises(Exception):  # noqa: B017 - frozen
        plan.code = "other"  # type: ignore[misc]


def test_malformed_yaml_names_file_line_and_column():
    text = "catalog:\n  name: x\nproducts: [\n  {code: a\n"
    with pytest.raises(ValidationFailed) as info:
        parse_catalog_text(text, "broken.yaml")
    assert info.value.message == "broken.yaml: malformed YAML"
    (detail,) = info.value.details
    assert detail.startswith("broken.yaml:5:")


def test_unknown_key_gives_its_path_and_line():
    text = BASE.replace("    price_update: {policy: notice, notice_days: 30}\n", "    colour: red\n", 1)
    (problem,) = problems(text)
    assert problem == f"cat.yaml:{line_of(text, 'colour')}: offers[0].colour: unknown key 'colour'"


def test_float_amount_is_refused_with_advice_to_quote_it():
    text = BASE.replace('price: {EUR: "10.00", GBP: "9.00"}', 'price: {EUR: 19.99, GBP: "9.00"}')
    (problem,) = problems(text)
    assert problem == (
        f"cat.yaml:{line_of(text, '19.99')}: offers[0].versions[0].charges[0].price.EUR: "
        '19.99 is a float, which is not exact; quote it as a string: "19.99"'
    )


def test_unknown_currency_is_refused():
    text = BASE.replace('EUR: "30.00", GBP: "25.00"', 'EUR: "30.00", XYZ: "25.00"')
    (problem,) = problems(text)
    assert "offers[1].versions[0].charges[0].price.XYZ: unknown currency code 'XYZ'" in problem


def test_tier_gap_points_at_the_tier_and_key():
    text = BASE.replace("{from: 100, up_to: null", "{from: 120, up_to: null")
    (problem,) = problems(text)
    assert problem == (
        f"cat.yaml:{line_of(text, 'from: 120')}: offers[0].versions[0].charges[1].pricing.tiers[1].from: "
        "tiers must be contiguous: expected from 100 (the previous tier's up_to), got 120"
    )


@pytest.mark.parametrize(
    ("tiers", "expected"),
    [
        ("[{from: 5, up_to: null, unit_price: {EUR: '1'}}]", "tiers[0].from: the first tier must start at 0"),
        ("[{from: 0, up_to: 10, unit_price: {EUR: '1'}}]", "tiers[0].up_to: the last tier must be open"),
        (
            "[{from: 0, up_to: null, unit_price: {EUR: '1'}},"
            " {from: 0, up_to: null, unit_price: {EUR: '1'}}]",
            "tiers[0].up_to: only the last tier may be open",
        ),
        (
            "[{from: 0, up_to: 0, unit_price: {EUR: '1'}}, {from: 0, up_to: null, unit_price: {EUR: '1'}}]",
            "tiers[0].up_to: up_to 0 must exceed from 0",
        ),
        ("[{from: 0, unit_price: {EUR: '1'}}]", "tiers[0].up_to: missing required key 'up_to'"),
    ],
)
def test_tier_rules(tiers, expected):
    body = (
        "        charges:\n          - {type: usage, code: u, usage_type: sms, unit: events,\n"
        f"             pricing: {{model: volume, tiers: {tiers}}}}}\n"
    )
    found = problems(one_offer(body))
    assert any(expected in p for p in found), found


def test_unknown_product_reference():
    text = BASE.replace("products: [mobile]", "products: [mobile, satellite]")
    (problem,) = problems(text)
    line = line_of(text, "satellite")
    assert problem == f"cat.yaml:{line}: offers[0].products[1]: unknown product 'satellite'"


VOICE_TARIFF = (
    "        charges:\n"
    "          - {type: usage, code: v, usage_type: voice, unit: seconds, tariff: voice-x}\n"
)


def test_unknown_tariff_reference_when_no_rating_section():
    body = VOICE_TARIFF
    (problem,) = problems(one_offer(body))
    assert "offers[0].versions[0].charges[0].tariff: unknown tariff code 'voice-x'" in problem
    assert "no `rating:` section" in problem


def test_tariff_reference_resolves_against_the_rating_section():
    body = VOICE_TARIFF
    rating = dedent(
        """\
        rating:
          destination_sets: [{code: nat, prefixes: ["33"]}]
          tariffs:
            - code: voice-x
              versions:
                - version: 1
                  effective_from: 2026-01-01
                  currency: EUR
                  rates: [{usage_type: voice, destination_set: nat, price: "0.05", increments: "60/1"}]
        """
    )
    doc = parse_catalog_text(one_offer(body) + rating, "ok.yaml")
    assert doc.tariff_codes() == {"voice-x"}


def test_all_problems_are_reported_at_once_sorted_by_line():
    text = (
        BASE.replace("kind: mobile}", "kind: mobil}")
        .replace('{EUR: "10.00", GBP: "9.00"}', '{EUR: 10.5, GBP: "9.00"}')
        .replace("notice_days: 30", "notice_days: -1")
    )
    found = problems(text)
    assert len(found) == 3
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines)
    assert found[0].startswith(f"cat.yaml:{line_of(text, 'mobil}')}: products[0].kind:")


def test_duplicate_codes_and_duplicate_yaml_keys():
    text = BASE.replace("code: fibre-a", "code: plan-a")
    (problem,) = problems(text)
    assert problem.endswith("offers[1].code: duplicate code 'plan-a'")
    dup_key = BASE.replace("    name: Plan A\n", "    name: Plan A\n    name: Again\n")
    (problem,) = problems(dup_key)
    assert problem == f"cat.yaml:{line_of(dup_key, 'Again')}: offers[0].name: duplicate key 'name'"


def test_versions_out_of_order_or_repeated():
    body = "        charges: []\n      - effective_from: 2025-12-01\n        charges: []\n"
    (problem,) = problems(one_offer(body))
    assert "offers[0].versions[1].effective_from: 2025-12-01T00:00:00+00:00 is before" in problem
    body = "        charges: []\n      - effective_from: 2026-01-01T00:00:00Z\n        charges: []\n"
    (problem,) = problems(one_offer(body))
    assert "repeats the previous version's" in problem


BUNDLES = """\
  - code: b1
    name: B1
    kind: bundle
    components: [plan-a, b2]
    versions: [{effective_from: 2026-01-01, bundle_price: {mode: discount, percent: "10"}}]
  - code: b2
    name: B2
    kind: bundle
    components: [b1, ghost]
    versions: [{effective_from: 2026-01-01, bundle_price: {mode: replace}}]
"""


def test_bundle_references_and_cycles():
    joined = "\n".join(problems(BASE + BUNDLES))
    assert "offers[3].components[1]: unknown component offer 'ghost'" in joined
    assert "offers[2].components: bundle 'b1' contains itself" in joined
    assert "offers[3].components: bundle 'b2' contains itself" in joined


def test_add_on_compatibility_must_name_plans():
    addon = """\
  - code: extra
    name: Extra
    kind: addon
    products: [mobile]
    compatible_with: [plan-a, nothing]
    versions: [{effective_from: 2026-01-01}]
"""
    (problem,) = problems(BASE + addon)
    assert problem.endswith("offers[2].compatible_with[1]: unknown offer 'nothing'")


def test_unit_must_measure_the_usage_type_and_allowance_shape():
    body = (
        "        charges:\n          - {type: usage, code: u, usage_type: data, unit: minutes,\n"
        "             pricing: {model: per_unit, unit_price: {EUR: '1'}}}\n"
        "        allowances:\n          - {code: a, usage_type: sms, unlimited: true, quantity: 5}\n"
    )
    found = "\n".join(problems(one_offer(body)))
    assert "charges[0].unit: minutes does not measure data usage" in found
    assert "allowances[0]: an unlimited allowance takes neither quantity nor rollover" in found


def test_currencies_must_agree_within_a_version():
    body = (
        "        charges:\n          - {type: recurring, code: f, price: {EUR: '1', GBP: '1'}}\n"
        "          - {type: one_time, code: a, kind: activation, price: {EUR: '5'}}\n"
    )
    (problem,) = problems(one_offer(body))
    assert "charges[1].price: priced in ['EUR'] but this version is priced in ['EUR', 'GBP']" in problem


def test_phases_must_end_evergreen_and_trial_comes_first():
    body = "        phases: [{kind: evergreen}, {kind: trial, duration: {unit: days, count: 7}}]\n"
    found = "\n".join(problems(one_offer(body)))
    assert "phases[0].kind: evergreen must be the last phase" in found
    assert "phases[1].kind: a trial can only be the first phase" in found
    assert "phases[1]: the last phase must be `kind: evergreen`" in found


def test_naive_datetime_and_bad_timezone_are_refused():
    body = "        charges: []\n"
    text = one_offer(body).replace("effective_from: 2026-01-01", "effective_from: 2026-01-01 10:00:00")
    (problem,) = problems(text)
    assert "effective_from: 2026-01-01T10:00:00 has no timezone" in problem
    (problem,) = problems(one_offer(body).replace("timezone: UTC", "timezone: Mars/Base"))
    assert "catalog.timezone:" in problem and "Mars/Base" in problem


def test_bare_dates_start_at_midnight_in_the_catalog_timezone():
    text = one_offer("        charges: []\n").replace("timezone: UTC", "timezone: Europe/Paris")
    doc = parse_catalog_text(text)
    assert doc.offers[0].versions[0].effective_from == datetime(2025, 12, 31, 23, tzinfo=UTC)


def test_missing_discriminator_and_missing_file(tmp_path):
    body = "        charges:\n          - {code: x, price: {EUR: '1'}}\n"
    (problem,) = problems(one_offer(body))
    assert problem.endswith("offers[0].versions[0].charges[0]: missing `type` key")
    with pytest.raises(ValidationFailed, match="no such catalog file"):
        parse_catalog_file(tmp_path / "none.yaml")


def test_python_api_builds_the_same_models_and_refuses_floats():
    version = OfferVersion(
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        charges=[RecurringCharge(type="recurring", code="fee", price={"EUR": Decimal("5")})],
    )
    offer = Offer(code="p", name="P", kind="plan", products=["mobile"], versions=[version])
    doc = CatalogDocument(
        catalog={"name": "code"}, products=[{"code": "mobile", "name": "M", "kind": "mobile"}], offers=[offer]
    )
    assert doc.offer("p").version(1).charges[0].price["EUR"] == Decimal("5")
    with pytest.raises(ValidationFailed) as info:
        catalog_from_data({"catalog": {"name": 1.5}}, "<python>")
    assert info.value.details == ["<python>: catalog.name: Input should be a valid string"]
    with pytest.raises(ValueError, match="is a float"):
        RecurringCharge(type="recurring", code="fee", price={"EUR": 5.5})


def test_the_example_catalog_is_valid():
    doc = parse_catalog_file("examples/catalog.yaml")
    assert {o.kind.value for o in doc.offers} == {"plan", "addon", "bundle"}
    assert doc.offer("mobile-20gb").versions[1].effective_from == datetime(2026, 5, 31, 22, tzinfo=UTC)


def test_empty_file_and_a_top_level_list_are_clear_errors():
    with pytest.raises(ValidationFailed) as info:
        parse_catalog_text("", "empty.yaml")
    assert info.value.details == ["empty.yaml: the file is empty"]
    with pytest.raises(ValidationFailed, match="a catalog is a mapping"):
        parse_catalog_text("- a\n- b\n", "list.yaml")


amounts = st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False, allow_infinity=False)


@given(
    st.lists(amounts, min_size=1, max_size=4), st.sampled_from(["UTC", "Europe/Paris", "America/New_York"])
)
def test_dump_then_parse_gives_the_same_document(prices, tz):
    edges = sorted({int(p) + i + 1 for i, p in enumerate(prices)})
    tiers = [
        {"from": 0 if i == 0 else edges[i - 1], "up_to": edge, "unit_price": {"EUR": str(prices[i])}}
        for i, edge in enumerate(edges[: len(prices) - 1])
    ]
    tiers.append({"from": tiers[-1]["up_to"] if tiers else 0, "up_to": None, "unit_price": {"EUR": "1"}})
    data = {
        "catalog": {"name": "prop", "timezone": tz},
        "products": [{"code": "m", "name": "M", "kind": "mobile"}],
        "offers": [
            {
                "code": "p",
                "name": "P",
                "kind": "plan",
                "products": ["m"],
                "versions": [
                    {
                        "effective_from": "2026-01-01",
                        "charges": [
                            {"type": "recurring", "code": "f", "price": {"EUR": str(prices[0])}},
                            {
                                "type": "usage",
                                "code": "u",
                                "usage_type": "sms",
                                "unit": "events",
                                "pricing": {"model": "graduated", "tiers": tiers},
                            },
                        ],
                    },
                    {"effective_from": "2026-02-01T12:30:00+05:00"},
                ],
            }
        ],
    }
    doc = catalog_from_data(data)
    again = parse_catalog_text(dump_catalog_yaml(doc))
    assert again == doc


def test_a_usage_charge_names_one_tariff_per_currency():
    body = (
        "        charges:\n"
        "          - {type: usage, code: v, usage_type: voice, unit: seconds,\n"
        "             tariff: {EUR: voice-x, GBP: voice-y}}\n"
    )
    rating = dedent(
        """\
        rating:
          tariffs:
            - code: voice-x
              versions:
                - {version: 1, effective_from: 2026-01-01, currency: EUR, rates: [{price: "0.05"}]}
        """
    )
    (problem,) = problems(one_offer(body) + rating)
    assert "offers[0].versions[0].charges[0].tariff.GBP: unknown tariff code 'voice-y'" in problem
    doc = parse_catalog_text(one_offer(body.replace("voice-y", "voice-x")) + rating, "ok.yaml")
    charge = doc.offers[0].versions[0].charges[0]
    assert (charge.tariff_for("EUR"), charge.tariff_for("USD"), charge.tariff_codes()) == (
        "voice-x",
        None,
        ["voice-x", "voice-x"],
    )
