"""TMF678 CustomerBill reads: one bill against the TMF schema, lists with filters, sort, pages and
count headers, `fields`, credit notes, exact amounts, and the TMF error shape."""

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


def test_one_bill_is_a_valid_tmf678_customer_bill(world):
    r = world.get(f"/customerBill/{world.ids['first']}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    bill = r.json()
    assert_tmf_valid(bill, TMF678, "CustomerBill")
    assert bill["id"] == str(world.ids["first"]) and bill["href"] == f"{BASE}/customerBill/{bill['id']}"
    assert (bill["billNo"], bill["category"], bill["state"], bill["@type"]) == (
        world.numbers["first"],
        "normal",
        "sent",
        "CustomerBill",
    )
    # issued 1 Feb 2026 at 07:00 in Paris; due 30 days later; dates are Paris midnights
    assert bill["billDate"] == "2026-02-01T00:00:00+01:00"
    assert bill["paymentDueDate"] == "2026-03-03T00:00:00+01:00"
    assert bill["billingPeriod"] == {
        "startDateTime": "2026-01-01T00:00:00+01:00",
        "endDateTime": "2026-02-01T00:00:00+01:00",
    }
    assert bill["billingAccount"]["id"] == str(world.ids["account"])
    assert bill["billingAccount"]["name"] == world.numbers["account"]
    assert bill["taxIncludedAmount"] == {"unit": "EUR", "value": 1234.56}
    assert bill["taxExcludedAmount"]["value"] == 1028.8 and bill["amountDue"]["value"] == 1234.56
    assert bill["remainingAmount"]["value"] == 1234.56
    assert bill["taxItem"] == [
        {"taxCategory": "S", "taxRate": 20, "taxAmount": {"unit": "EUR", "value": 205.76}, "@type": "TaxItem"}
    ]
    pdf, xml = bill["billDocument"]
    assert pdf["url"] == f"{bill['href']}/document" and pdf["mimeType"] == "application/pdf"
    assert pdf["name"] == f"{world.numbers['first']}.pdf"
    assert xml["url"].endswith("?format=facturx-xml")


def test_amounts_are_written_exactly_in_the_raw_body(world):
    raw = world.get(f"/customerBill/{world.ids['first']}").text
    assert '"taxIncludedAmount":{"unit":"EUR","value":1234.56}' in raw
    assert '"taxExcludedAmount":{"unit":"EUR","value":1028.80}' in raw  # the minor unit kept
    assert '"taxRate":20,' in raw
    second = json.loads(world.get(f"/customerBill/{world.ids['second']}").text, parse_float=Decimal)
    # 20 + 1.00 − 2.00 allowance at 20 % → 3.80; 5.00 at 5.5 % → 0.275 → 0.28; 24.00 + 4.08
    assert second["taxIncludedAmount"]["value"] == Decimal("28.08")
    assert [(t["taxRate"], t["taxAmount"]["value"]) for t in second["taxItem"]] == [
        (Decimal("20"), Decimal("3.80")),
        (Decimal("5.5"), Decimal("0.28")),
    ]
    # the 5.5 % line was credited: 5.28 of 28.08 no longer due
    assert second["remainingAmount"]["value"] == Decimal("22.80") and second["state"] == "sent"


def test_credit_note_has_its_category_and_references_the_invoice(world):
    note = world.get(f"/customerBill/{world.ids['note']}").json()
    assert_tmf_valid(note, TMF678, "CustomerBill")
    assert (note["category"], note["state"], note["billNo"]) == (
        "creditNote",
        "settled",
        world.numbers["note"],
    )
    assert note["precedingBill"]["id"] == str(world.ids["second"])
    assert note["precedingBill"]["name"] == world.numbers["second"]
    assert note["taxIncludedAmount"]["value"] == 5.28 and note["remainingAmount"]["value"] == 0
    assert note["runType"] == "offCycle"
    listed = world.get("/customerBill", category="creditNote").json()
    assert [b["id"] for b in listed] == [str(world.ids["note"])]


def test_draft_is_new_without_number_or_document(world):
    draft = world.get(f"/customerBill/{world.ids['draft']}").json()
    assert_tmf_valid(draft, TMF678, "CustomerBill")
    assert draft["state"] == "new" and "billNo" not in draft and "billDocument" not in draft
    assert draft["billingPeriod"]["startDateTime"] == "2026-02-01T00:00:00-05:00"  # New York
    r = world.client.get(f"{BASE}/customerBill/{world.ids['draft']}/document", headers=world.auth())
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def test_list_pages_and_counts(world):
    r = world.get("/customerBill", limit=2)
    assert r.status_code == 200
    assert (r.headers["X-Total-Count"], r.headers["X-Result-Count"]) == ("4", "2")
    rest = world.get("/customerBill", offset=2, limit=2)
    ids = [b["id"] for b in r.json() + rest.json()]
    assert ids == [str(world.ids[k]) for k in ("first", "second", "note", "draft")]
    for bill in r.json() + rest.json():
        assert_tmf_valid(bill, TMF678, "CustomerBill")
    assert world.get("/customerBill", limit=0).status_code == 422
    assert world.get("/customerBill", offset=-1).json()["status"] == "422"


def test_filters(world):
    def ids(**params):  # type: ignore[no-untyped-def]
        r = world.get("/customerBill", **params)
        assert r.status_code == 200, r.text
        assert r.headers["X-Total-Count"] == str(len(r.json()))
        return {b["id"] for b in r.json()}

    first, second, note, draft = (str(world.ids[k]) for k in ("first", "second", "note", "draft"))
    assert ids(state="sent") == {first, second}
    assert ids(state="settled") == {note}
    assert ids(state="new,settled") == {draft, note}
    assert ids(state="partiallyPaid") == set()
    assert ids(**{"billingAccount.id": str(world.ids["account"])}) == {first, second, note}
    assert ids(**{"billingAccount.id": world.numbers["account"]}) == {first, second, note}
    assert ids(**{"billingAccount.id": "ACC-999999"}) == set()
    assert ids(**{"billDate.gte": "2026-02-04"}) == {second, note}
    assert ids(**{"billDate.gte": "2026-02-02", "billDate.lte": "2026-02-05T12:00:00+01:00"}) == {second}
    assert ids(category="normal") == {first, second, draft}
    assert ids(billNo=world.numbers["second"]) == {second}
    bad = world.get("/customerBill", state="cancelled")
    assert bad.status_code == 422 and "partiallyPaid" in bad.json()["message"]
    assert world.get("/customerBill", category="refund").status_code == 422


def test_sort(world):
    def order(sort):  # type: ignore[no-untyped-def]
        return [b["id"] for b in world.get("/customerBill", sort=sort).json()]

    first, second, note, draft = (str(world.ids[k]) for k in ("first", "second", "note", "draft"))
    assert order("-billDate") == [note, second, first, draft]  # the draft has no date: last
    assert order("billDate") == [first, second, note, draft]
    assert order("-billNo") == [second, first, note, draft]  # INV-… after CN-… descending
    assert order("-id") == [draft, note, second, first]
    r = world.get("/customerBill", sort="amount")
    assert r.status_code == 422 and "billDate" in r.json()["message"]


def test_fields_keep_the_chosen_attributes(world):
    listed = world.get("/customerBill", fields="billNo,state", limit=1).json()
    assert listed == [
        {"id": str(world.ids["first"]), "href": f"{BASE}/customerBill/{world.ids['first']}",
         "billNo": world.numbers["first"], "state": "sent", "@type": "CustomerBill"}
    ]  # fmt: skip
    one = world.get(f"/customerBill/{world.ids['first']}", fields="amountDue").json()
    assert set(one) == {"id", "href", "@type", "amountDue"}


def test_without_a_key_is_401_and_unknown_bill_is_404_in_tmf_shape(world):
    r = world.client.get(f"{BASE}/customerBill")
    assert r.status_code == 401 and r.json()["code"] == "unauthorised" and r.json()["status"] == "401"
    r = world.client.get(
        f"{BASE}/customerBill/{world.ids['first']}", headers={"Authorization": "Bearer tb_x_y"}
    )
    assert r.status_code == 401
    for missing in ("999999", "INV-2026-000001", "-1"):
        r = world.get(f"/customerBill/{missing}")
        assert r.status_code == 404, missing
        body = r.json()
        assert set(body) == {"code", "reason", "message", "status"}
        assert body["code"] == "not_found" and body["status"] == "404"
        assert_tmf_valid(body, TMF678, "Error")
