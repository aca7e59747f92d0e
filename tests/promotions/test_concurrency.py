"""Two transactions racing for a coupon's last redemption: one wins, the other is refused.

On PostgreSQL the loser waits on the coupon's row lock (SELECT … FOR UPDATE); on SQLite on the
database write lock (BEGIN IMMEDIATE). Either way it counts after the winner has committed.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from telbill.accounts import (
    BillingAccountCreate,
    CustomerCreate,
    create_billing_account,
    create_customer,
    parse_spec,
)
from telbill.core.clock import TestClock
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.promotions import CouponCreate, RedemptionLimitReached, create_coupon, parse, redeem
from telbill.promotions.model import RedemptionRow

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)


@pytest.fixture
def engine_with_accounts(fresh_db_url):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    clock = TestClock(NOW)
    with Session(engine) as s:
        ids = []
        for name in ("Ada", "Grace", "Edsger"):
            customer = create_customer(
                s, clock, parse_spec(CustomerCreate, kind="person", name=name, country="FR")
            )
            account = create_billing_account(
                s, clock, parse_spec(BillingAccountCreate, customer_id=customer.id)
            )
            ids.append(account.id)
        spec = parse(
            CouponCreate, code="LAST", name="Last", kind="percentage", percent="10", max_redemptions=2
        )
        create_coupon(s, clock, spec)
        redeem(s, clock, ids[0], "LAST")
        s.commit()
    yield engine, ids
    engine.dispose()


def _session(engine):
    connection = engine.connect()
    connection.info["immediate"] = True  # SQLite: take the write lock at BEGIN, as a worker would
    return connection, Session(bind=connection)


def test_only_one_of_two_racing_transactions_gets_the_last_redemption(engine_with_accounts):
    engine, (_, grace, edsger) = engine_with_accounts
    clock = TestClock(NOW)
    first_conn, first = _session(engine)
    outcome: dict[str, object] = {}

    def second_transaction() -> None:
        conn, second = _session(engine)
        try:
            outcome["redemption"] = redeem(second, clock, edsger, "LAST")
            second.commit()
        except Exception as exc:  # the test inspects what happened
            outcome["error"] = exc
            second.rollback()
        finally:
            second.close()
            conn.close()

    try:
        redeem(first, clock, grace, "LAST")  # holds the lock until commit
        racer = threading.Thread(target=second_transaction)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive(), f"the second transaction did not wait: {outcome}"
        first.commit()
    finally:
        first.close()
        first_conn.close()
    racer.join(timeout=30)
    assert not racer.is_alive()
    assert isinstance(outcome.get("error"), RedemptionLimitReached), outcome
    assert outcome["error"].refusals == ("max_redemptions_reached",)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(RedemptionRow)) == 2


def test_the_database_refuses_a_second_redemption_number(engine_with_accounts):
    engine, (ada, grace, _) = engine_with_accounts
    with Session(engine) as s:
        taken = s.scalars(select(RedemptionRow)).one()
        s.add(RedemptionRow(coupon_id=taken.coupon_id, account_id=grace, currency="EUR", redeemed_at=NOW,
                            status="active", coupon_seq=1, account_seq=1))  # fmt: skip
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()
        s.add(RedemptionRow(coupon_id=taken.coupon_id, account_id=ada, currency="EUR", redeemed_at=NOW,
                            status="active", coupon_seq=2, account_seq=1))  # fmt: skip
        with pytest.raises(IntegrityError):
            s.flush()
