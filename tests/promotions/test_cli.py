"""`telbill coupons ...` end to end on a database of its own."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from telbill.accounts import (
    BillingAccountCreate,
    CustomerCreate,
    create_billing_account,
    create_customer,
    parse_spec,
)
from telbill.cli.main import app, main
from telbill.core.clock import TestClock
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.events.model import OutboxEvent
from telbill.promotions.model import CouponRow, PromoCodeRow, RedemptionRow
from telbill.scheduler import create_clock
from tests.promotions.conftest import T0

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    from telbill.cli.context import console

    monkeypatch.setattr(console, "width", 200)


@pytest.fixture
def db(fresh_db_url):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    with Session(engine) as s:
        clock = TestClock(T0)
        customer = create_customer(
            s, clock, parse_spec(CustomerCreate, kind="person", name="Ada", country="FR")
        )
        create_billing_account(s, clock, parse_spec(BillingAccountCreate, customer_id=customer.id))
        create_clock(s, clock, "qa", T0)
        s.commit()
    yield fresh_db_url, engine
    engine.dispose()


def run(url, *args):
    return runner.invoke(
        app, ["--database-url", url, "--clock", "qa", "coupons", *args], catch_exceptions=True
    )


def counts(engine):
    """Coupons, promo codes, redemptions, and outbox events of coupons."""
    with Session(engine) as s:
        rows = tuple(
            s.scalar(select(func.count()).select_from(t)) for t in (CouponRow, PromoCodeRow, RedemptionRow)
        )
        events = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.aggregate_type == "coupon")
        return (*rows, s.scalar(events))


WELCOME3 = [
    "create", "--code", "WELCOME3", "--percent", "20", "--cycles", "3", "--scope", "offer:mobile-20gb",
    "--new-customers-only", "--max-redemptions", "100", "--max-per-account", "1",
    "--valid-from", "2026-01-01", "--valid-to", "2026-07-01", "--promo-code", "RADIO-W3",
]  # fmt: skip


def test_create_show_list_redeem_revoke_report(db):
    url, engine = db
    created = run(url, *WELCOME3)
    assert created.exit_code == 0, created.output
    assert "20 % off product mobile-20gb, 3 cycles" in created.output
    shown = run(url, "show", "welcome3")
    assert shown.exit_code == 0, shown.output
    assert "new customers only" in shown.output and "promo code RADIO-W3" in shown.output
    assert "2025-12-31T23:00:00+00:00" in shown.output  # midnight in Paris
    assert "WELCOME3" in run(url, "list").output

    redeemed = run(url, "redeem", "--account", "ACC-000001", "radio-w3")
    assert redeemed.exit_code == 0, redeemed.output
    listed = run(url, "redemptions", "--account", "ACC-000001")
    assert "RADIO-W3" in listed.output and "active" in listed.output
    report = run(url, "report", "WELCOME3", "--from", "2026-01-01")
    assert report.exit_code == 0, report.output
    assert "WELCOME3" in report.output and "2026-01-01: 1" in report.output

    again = run(url, "redeem", "--account", "ACC-000001", "WELCOME3")
    assert again.exit_code != 0
    assert run(url, "revoke", "1", "--reason", "duplicate account").exit_code == 0
    assert run(url, "archive", "WELCOME3").exit_code == 0
    assert counts(engine) == (1, 1, 1, 5)  # created, promo code added, redeemed, revoked, archived
    assert "redemptionRevoked" in str(_event_types(engine))


def _event_types(engine):
    with Session(engine) as s:
        return s.scalars(select(OutboxEvent.event_type).where(OutboxEvent.aggregate_type == "coupon")).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--percent", "120"], "percentage must be in (0, 100]"),
        (["--percent", "10", "--cycles", "2", "--forever"], "give one of --once, --cycles N, --forever"),
        (["--amount", "5.00"], "an amount and a currency"),
        (["--amount", "5 EUR", "--amount", "EUR 6"], "EUR twice"),
        (["--percent", "10", "--scope", "offer"], "--scope is"),
        (["--percent", "10", "--valid-from", "soon"], "not an ISO date"),
        (["--percent", "10", "--country", "France", "--segment", "vip"], "alpha-2"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_writes_nothing(db, args, message, capsys):
    url, engine = db
    argv = sys.argv
    sys.argv = [
        "telbill",
        "--database-url",
        url,
        "--clock",
        "qa",
        "coupons",
        "create",
        "--code",
        "BAD1",
        *args,
    ]
    try:
        with pytest.raises(SystemExit) as exited:
            main()
    finally:
        sys.argv = argv
    assert exited.value.code == 2
    assert message in " ".join(capsys.readouterr().err.split())
    assert counts(engine) == (0, 0, 0, 0)


def test_refusals_are_listed_by_the_cli(db):
    url, engine = db
    assert run(url, "create", "--code", "PRO", "--percent", "10", "--segment", "smb").exit_code == 0
    result = run(url, "redeem", "--account", "ACC-000001", "PRO")
    assert result.exit_code != 0 and "segment_not_eligible" in str(result.exception)
    assert counts(engine)[2] == 0
