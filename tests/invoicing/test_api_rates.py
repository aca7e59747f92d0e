"""TMF678 AppliedCustomerBillingRate: the lines and allowances of a bill."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.api.tmf_schema import assert_tmf_valid
from tests.invoicing.test_api_support import BASE, TMF678, World, read_world  # noqa: F401

pytestmark = pytest.mark.db  # on the module's shared database (see `read_world`)


@pytest.fixture
def world(read_world: World) -> World:  # noqa: F811
    return read_world


def test_applied_rates_of_a_bill(world):
    bill_id = world.ids["second"]
    r = world.client.get(
        f"{BASE}/appliedCustomerBillingRate", params={"bill.id": bill_id}, headers=world.auth()
    )
    assert r.status_code == 200
    assert (r.headers["X-Total-Count"], r.headers["X-Result-Count"]) == ("4", "4")
    rates = json.loads(r.text, parse_float=Decimal)
    for rate in r.json():
        assert_tmf_valid(rate, TMF678, "AppliedCustomerBillingRate")
        assert rate["bill"]["id"] == str(bill_id) and rate["isBilled"] is True
    mobile, reduced, _, welcome = rates
    assert (mobile["name"], mobile["type"]) == ("Mobile", "recurringCharge")
    assert mobile["taxExcludedAmount"] == {"unit": "EUR", "value": Decimal("20.00")}
    assert mobile["taxIncludedAmount"]["value"] == Decimal("24.00")
    assert mobile["appliedTax"][0]["taxRate"] == 20
    assert mobile["periodCoverage"] == {
        "startDateTime": "2026-01-01T00:00:00+01:00",
        "endDateTime": "2026-02-01T00:00:00+01:00",
    }
    chars = {c["name"]: c["value"] for c in mobile["characteristic"]}
    assert chars["quantity"] == 2 and chars["unitPrice"] == 10 and chars["chargeKind"] == "recurring"
    assert reduced["appliedTax"][0]["taxAmount"]["value"] == Decimal("0.28")  # 5.00 × 5.5 % = 0.275
    assert (welcome["type"], welcome["taxExcludedAmount"]["value"]) == (
        "appliedBillingCredit",
        Decimal("-2.00"),
    )
    bill = world.get(f"/customerBill/{bill_id}").json()
    assert sum(x["taxExcludedAmount"]["value"] for x in rates) == Decimal(
        str(bill["taxExcludedAmount"]["value"])
    )

    one = world.get(f"/appliedCustomerBillingRate/{mobile['id']}")
    assert (
        one.status_code == 200 and one.json()["id"] == mobile["id"] and mobile["href"].endswith(mobile["id"])
    )
    page = world.client.get(
        f"{BASE}/appliedCustomerBillingRate",
        params={"bill.id": bill_id, "offset": 3, "limit": 5, "fields": "name"},
        headers=world.auth(),
    )
    assert page.json() == [{"id": welcome["id"], "href": welcome["href"], "name": "Welcome",
                            "@type": "AppliedCustomerBillingRate"}]  # fmt: skip
    assert (page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == ("4", "1")


def test_credit_note_rates_are_credits_and_unknown_rates_are_404(world):
    rates = world.get("/appliedCustomerBillingRate", **{"bill.id": world.ids["note"]}).json()
    assert [(r["type"], r["taxExcludedAmount"]["value"]) for r in rates] == [("appliedBillingCredit", 5)]
    assert world.get("/appliedCustomerBillingRate").status_code == 422
    assert world.get("/appliedCustomerBillingRate", **{"bill.id": "999"}).status_code == 404
    for missing in ("nope", f"{world.ids['note']}-L99", "999-L1"):
        r = world.get(f"/appliedCustomerBillingRate/{missing}")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
