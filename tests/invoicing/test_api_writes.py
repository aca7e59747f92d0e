"""Writes of the Customer Bill API: the on-demand preview (writes no bill, replays by key) and
PATCH of a bill's state (a draft may be issued; nothing else moves)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from telbill.api.app import create_app
from telbill.api.keys import create_key
from telbill.billing.preview import preview_invoice
from telbill.core.clock import TestClock
from telbill.core.settings import Settings
from telbill.db.engine import create_db_engine, make_sessionmaker, session_scope
from telbill.db.models import load_all_models
from telbill.events.model import OutboxEvent
from telbill.invoicing import get_invoice
from tests.api.tmf_schema import assert_tmf_valid
from tests.billing.test_run import CATALOG
from tests.invoicing.test_api_support import BASE, TMF678, world  # noqa: F401
from tests.scenarios.world import World, utc


@pytest.fixture
def shop(fresh_db_url: str) -> Iterator[dict]:
    """A catalog and one account with the `basic` offer (20.00 a month), ordered 1 Jan 2027."""
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    with session_scope(make_sessionmaker(engine)) as session:
        w = World(session, CATALOG, utc(2027, 1, 1))
        account = w.account(bill_cycle_day=1)
        w.order(account, "basic")
        _, writer = create_key(session, w.clock, "crm", ["read", "write"])
        from telbill.accounts import get_account

        number = get_account(session, account).number
    clock = TestClock(utc(2027, 1, 20))
    app = create_app(Settings(database_url=fresh_db_url), engine=engine, clock=clock)
    yield {
        "client": TestClient(app),
        "engine": engine,
        "account": account,
        "number": number,
        "writer": writer,
    }
    engine.dispose()


def _counts(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import func

    from telbill.db.base import Base

    with Session(engine) as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables
        }


def test_on_demand_returns_a_preview_and_writes_no_bill(shop):
    client, headers = shop["client"], {"Authorization": f"Bearer {shop['writer']}"}
    before = _counts(shop["engine"])
    body = {"billingAccount": {"id": shop["number"]}, "lastUpdate": "2027-02-01"}
    r = client.post(f"{BASE}/customerBillOnDemand", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert _counts(shop["engine"]) == before  # no invoice, no line, no event, no request record
    answer = r.json()
    assert_tmf_valid(answer, TMF678, "CustomerBillOnDemand")
    assert answer["state"] == "done" and answer["billingAccount"]["id"] == str(shop["account"])
    assert answer["lastUpdate"] == "2027-02-01T23:59:59.999999Z"  # end of that day on the payer's calendar
    bill = answer["billPreview"]
    assert_tmf_valid(bill, TMF678, "CustomerBill")
    for rate in bill["appliedCustomerBillingRate"]:
        assert_tmf_valid(rate, TMF678, "AppliedCustomerBillingRate")
        assert rate["isBilled"] is False and rate["billingAccount"]["id"] == str(shop["account"])
    # January and February in advance: 2 × 20.00 + 20 % VAT
    assert '"taxIncludedAmount":{"unit":"EUR","value":48.00}' in r.text
    assert bill["state"] == "new" and "id" not in bill
    with Session(shop["engine"]) as s:
        expected = preview_invoice(s, shop["account"], utc(2027, 2, 1, 23, 59, 59, 999999))
    assert expected is not None
    parsed = json.loads(r.text, parse_float=Decimal)["billPreview"]
    assert parsed["taxIncludedAmount"]["value"] == expected.content.totals.grand_total


def test_on_demand_replays_by_key_and_refuses_bad_requests(shop):
    client = shop["client"]
    headers = {"Authorization": f"Bearer {shop['writer']}", "Idempotency-Key": "preview-1"}
    body = {"billingAccount": {"id": str(shop["account"])}}
    first = client.post(f"{BASE}/customerBillOnDemand", json=body, headers=headers)
    again = client.post(f"{BASE}/customerBillOnDemand", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert json.loads(again.text, parse_float=Decimal) == json.loads(first.text, parse_float=Decimal)
    assert '"taxIncludedAmount":{"unit":"EUR","value":24.00}' in again.text  # January: digits kept
    assert first.json()["lastUpdate"] == "2027-01-20T00:00:00Z"  # the clock's now
    plain = {"Authorization": headers["Authorization"]}
    missing = client.post(f"{BASE}/customerBillOnDemand", json={"name": "x"}, headers=plain)
    assert missing.status_code == 422 and "billingAccount.id" in missing.json()["message"]
    unknown = client.post(
        f"{BASE}/customerBillOnDemand", json={"billingAccount": {"id": "9999"}}, headers=plain
    )
    assert unknown.status_code == 404
    assert client.post(f"{BASE}/customerBillOnDemand", json=body).status_code == 401


def test_patch_issues_a_draft(world):  # noqa: F811
    headers = {**world.auth(world.writer), "Content-Type": "application/merge-patch+json"}
    url = f"{BASE}/customerBill/{world.ids['draft']}"
    r = world.client.patch(
        url, content=json.dumps({"state": "sent"}), headers={**headers, "Idempotency-Key": "k"}
    )
    assert r.status_code == 200, r.text
    bill = r.json()
    assert_tmf_valid(bill, TMF678, "CustomerBill")
    assert bill["state"] == "sent" and bill["billNo"] == "INV-2026-000003"
    assert '"taxIncludedAmount":{"unit":"EUR","value":9.32}' in r.text  # 7.77 + 1.554 → 1.55
    replay = world.client.patch(
        url, content=json.dumps({"state": "sent"}), headers={**headers, "Idempotency-Key": "k"}
    )
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert json.loads(replay.text, parse_float=Decimal) == json.loads(r.text, parse_float=Decimal)
    with Session(world.engine) as s:
        assert get_invoice(s, world.ids["draft"]).state == "finalised"
        created = s.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "CustomerBill.created")).all()
        assert str(world.ids["draft"]) in [e.aggregate_id for e in created]
    same = world.client.patch(url, json={"state": "sent"}, headers=world.auth(world.writer))
    assert same.status_code == 200 and same.json()["state"] == "sent"  # a merge patch to the same state


def test_patch_refuses_every_other_change(world):  # noqa: F811
    url = f"{BASE}/customerBill/{world.ids['first']}"
    writer = world.auth(world.writer)
    before = world.row_counts()
    illegal = world.client.patch(url, json={"state": "settled"}, headers=writer)
    assert illegal.status_code == 409 and illegal.json()["code"] == "illegal_transition"
    assert_tmf_valid(illegal.json(), TMF678, "Error")
    frozen = world.client.patch(
        url, json={"billNo": "X-1", "amountDue": {"unit": "EUR", "value": 1}}, headers=writer
    )
    assert frozen.status_code == 422 and "amountDue" in frozen.json()["message"]
    assert world.client.patch(url, json={"state": "bogus"}, headers=writer).status_code == 422
    assert world.client.patch(url, json=["state"], headers=writer).status_code == 422
    json_patch = {**writer, "Content-Type": "application/json-patch+json"}
    ops = json.dumps([{"op": "replace", "path": "/state", "value": "settled"}])
    assert world.client.patch(url, content=ops, headers=json_patch).status_code == 415
    assert world.client.patch(url, json={"state": "sent"}, headers=world.auth()).status_code == 403
    assert (
        world.client.patch(f"{BASE}/customerBill/31337", json={"state": "sent"}, headers=writer).status_code
        == 404
    )
    assert world.row_counts() == before
    assert world.get(f"/customerBill/{world.ids['first']}").json()["state"] == "sent"
