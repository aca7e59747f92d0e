"""Tariff validation names the path of each bad key; compilation is exact."""

from __future__ import annotations

import pytest
import yaml

from telbill.core.errors import ValidationFailed
from telbill.rating.files import rating_from_data
from telbill.rating.tariff import compile_rating

BASE = """
destination_sets: [{code: fr, prefixes: ["33"]}]
time_bands:
  - code: week
    rules:
      - {band: offpeak, days: [all]}
      - {band: peak, days: [weekdays], hours: ["08:00-20:00"], priority: 1}
tariffs:
  - code: t
    versions:
      - version: 1
        effective_from: 2026-01-01
        currency: EUR
        time_bands: week
        rates:
          - {destination_set: fr, price: "0.10", increments: "60/1"}
"""


def problems(edit) -> list[str]:
    data = yaml.safe_load(BASE)
    edit(data)
    with pytest.raises(ValidationFailed) as err:
        rating_from_data(data)
    return err.value.details


def rate0(data):
    return data["tariffs"][0]["versions"][0]["rates"][0]


def test_the_base_catalog_is_valid():
    assert rating_from_data(yaml.safe_load(BASE)).tariff_codes() == {"t"}


def test_unknown_destination_set_names_its_path():
    found = problems(lambda d: rate0(d).update(destination_set="mars"))
    assert found == ["rating.tariffs[0].versions[0].rates[0].destination_set: unknown destination set 'mars'"]


def test_price_with_too_many_decimals_names_its_path():
    found = problems(lambda d: rate0(d).update(price="0.1234567"))
    assert len(found) == 1 and found[0].startswith("rating.tariffs[0].versions[0].rates[0].price:")
    assert "more than 6 decimals" in found[0]


def test_float_prices_are_refused():
    found = problems(lambda d: rate0(d).update(price=0.1))
    assert "quote the number" in found[0]


def test_overlapping_bands_without_priority():
    found = problems(lambda d: d["time_bands"][0]["rules"][1].update(priority=0))
    assert found == [
        "rating.time_bands[0].rules[1]: band 'peak' overlaps rules[0] ('offpeak') at the same priority 0; "
        "give one of them a higher priority"
    ]


def test_a_holiday_rule_overlaps_weekday_rules_at_the_same_priority():
    def edit(d):
        d["time_bands"][0]["rules"].append({"band": "holiday", "days": ["holiday"], "priority": 1})

    found = problems(edit)
    assert found[0].startswith("rating.time_bands[0].rules[2]: band 'holiday' overlaps rules[1]")


def test_hours_not_covered_are_reported():
    found = problems(lambda d: d["time_bands"][0]["rules"].pop(0))
    assert "rating.time_bands[0].rules: no band covers mon from minute 0 of the day" in found


def test_unknown_band_zone_and_time_bands():
    def edit(d):
        rate0(d).update(band="night", zone="moon")
        d["tariffs"][0]["versions"][0]["time_bands"] = "weak"

    found = problems(edit)
    assert "rating.tariffs[0].versions[0].time_bands: unknown time bands 'weak'" in found
    assert "rating.tariffs[0].versions[0].rates[0].zone: unknown zone 'moon'" in found


def test_slots_must_be_whole_increments():
    def edit(d):
        rate0(d).pop("increments")
        rate0(d)["slots"] = [{"from": 0, "increment": 60}, {"from": 90, "increment": 1}]

    found = problems(edit)
    assert found[0].startswith("rating.tariffs[0].versions[0].rates[0].slots[0]: slot [0, 90)")


def test_overlapping_versions_and_fallback_loops():
    def edit(d):
        v2 = dict(d["tariffs"][0]["versions"][0], version=2, effective_from="2026-06-01")
        d["tariffs"][0]["versions"].append(v2)
        d["tariffs"][0]["fallback"] = "t"

    found = problems(edit)
    assert (
        "rating.tariffs[0].versions[1].effective_from: overlaps version 1; close it with effective_to"
        in found
    )
    assert "rating.tariffs[0].fallback: fallback chain of 't' loops" in found


def test_prices_compile_to_an_exact_integer_scale():
    """0.10/min = 100000 micros per 60 s: 1666.67 micros per second is not whole, so the scale is 3:
    5000 per second in units of 1/3 micro."""
    rating = compile_rating(rating_from_data(yaml.safe_load(BASE)))
    rate = rating.rates[0]
    assert (rate.scale, [s.per_unit for s in rate.slots]) == (3, [5000, 5000])


def test_prefix_file_is_read_relative_to_the_catalog(tmp_path):
    (tmp_path / "uk.csv").write_text("prefix\n44\n447\n", encoding="utf-8")
    data = yaml.safe_load(BASE)
    data["destination_sets"].append({"code": "uk", "prefix_file": "uk.csv"})
    rating = compile_rating(rating_from_data(data), tmp_path)
    index = rating.tariffs["t"].versions[0].prefix_index["voice"]
    assert index.lookup("33123") == (0, 2)
    data["tariffs"][0]["versions"][0]["rates"].append(
        {"destination_set": "uk", "price": "1", "increments": "1"}
    )
    rating = compile_rating(rating_from_data(data), tmp_path)
    assert rating.tariffs["t"].versions[0].prefix_index["voice"].lookup("4471") == (1, 3)
    data["destination_sets"][1]["prefix_file"] = "missing.csv"
    with pytest.raises(ValidationFailed, match=r"destination_sets\[1\].prefix_file"):
        compile_rating(rating_from_data(data), tmp_path)
