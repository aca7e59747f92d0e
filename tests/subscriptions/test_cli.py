"""The orders, subscriptions and clock commands against a database of their own."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy.orm import Session

from telbill.accounts import (
    BillingAccountCreate,
    CustomerCreate,
    create_billing_account,
    create_customer,
    parse_spec,
)
from telbill.catalog import load_catalog, parse_catalog_text
from telbill.cli.main import main
from telbill.core.clock import TestClock
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.subscriptions import get_subscription, list_subscriptions

from .conftest import CATALOG, T0


@pytest.fixture
def world(fresh_db_url):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    with Session(engine) as session:
        clock = TestClock(T0)
        load_catalog(session, clock, parse_catalog_text(CATALOG))
        customer = create_customer(
            session, clock, parse_spec(CustomerCreate, kind="person", name="Ada", country="FR")
        )
        account = create_billing_account(
            session, clock, parse_spec(BillingAccountCreate, customer_id=customer.id)
        )
        number = account.number
        session.commit()
    yield fresh_db_url, number, engine
    engine.dispose()


def run(url, *args, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["telbill", "--database-url", url, *args])
    with pytest.raises(SystemExit) as info:
        main()
    out = capsys.readouterr()
    return info.value.code or 0, out.out + out.err


def test_order_then_scheduled_suspend_applied_by_advancing_the_clock(world, monkeypatch, capsys):
    url, number, engine = world
    cli = lambda *a: run(url, *a, monkeypatch=monkeypatch, capsys=capsys)  # noqa: E731
    assert cli("clock", "create", "qa", "--at", T0.isoformat())[0] == 0
    code, out = cli(
        "--clock",
        "qa",
        "orders",
        "create",
        "--account",
        number,
        "--offer",
        "mobile-s",
        "--msisdn",
        "+33612345678",
    )
    assert code == 0 and "completed" in out, out
    with Session(engine) as session:
        (sub,) = list_subscriptions(session)
        sub_id = sub.id
    code, out = cli(
        "--clock", "qa", "subscriptions", "suspend", str(sub_id), "--at", "2026-03-15T00:00:00+00:00"
    )
    assert code == 0 and "scheduled" in out
    code, out = cli("clock", "advance", "qa", "--days", "10")
    assert code == 0 and "1 job(s) ran" in out and "suspend of subscription" in out
    assert "2026-03-20T09:00:00+00:00" in cli("clock", "show", "qa")[1]
    with Session(engine) as session:
        assert get_subscription(session, sub_id).state == "suspended"
    code, out = cli("subscriptions", "show", str(sub_id))
    assert code == 0 and "+33612345678" in out and "suspend" in out
    assert cli("clock", "advance", "qa", "--days", "1")[1].count("0 job(s) ran") == 1


def test_bad_input_and_illegal_moves_exit_2_and_change_nothing(world, monkeypatch, capsys):
    url, number, engine = world
    cli = lambda *a: run(url, *a, monkeypatch=monkeypatch, capsys=capsys)  # noqa: E731
    code, out = cli("orders", "create", "--account", number, "--offer", "nope")
    assert code == 2 and "unknown offer 'nope'" in out
    code, out = cli("orders", "list")
    assert "failed" in out  # the failed order is kept with its reasons
    cli("orders", "create", "--account", number, "--offer", "mobile-s")
    with Session(engine) as session:
        (sub,) = list_subscriptions(session)
        sub_id = sub.id
    code, out = cli("subscriptions", "resume", str(sub_id))
    assert code == 2 and "cannot go from active to active" in out
    code, out = cli("subscriptions", "change-quantity", str(sub_id), "2", "--at", "2020-01-01")
    assert code == 2 and "days in the past" in out
    code, out = cli("clock", "advance", "nope", "--days", "1")
    assert code == 2 and "no test clock named 'nope'" in out
    with Session(engine) as session:
        sub = get_subscription(session, sub_id)
        assert (sub.state, sub.quantity) == ("active", 1)
