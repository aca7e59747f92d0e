"""The statement-level check on inserted invoice children (PostgreSQL) is planned at each
statement: a plan made while the invoices table was empty must not be kept once it has grown
(it hashed every invoice at each later insert, so a new database's first bill run slowed down
batch after batch)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from tests.invoicing.test_store_support import new_account, new_clock

LINES = (  # one line for each invoice id in [first, first + count)
    "INSERT INTO invoice_lines (invoice_id, position, line_id, description, quantity, unit_code,"
    " unit_price, net_amount, tax_category, tax_rate, charge_kind)"
    " SELECT g, 1, 'L1', 'x', 1, 'C62', 1, 1, 'S', 20, 'one_time'"
    " FROM generate_series(:first, :first + :count - 1) g"
)


def _check_plans(notices: list[str]) -> list[str]:
    return [n for n in notices if "new_rows" in n and "Query Text" in n]


def test_children_check_is_planned_against_the_table_as_it_is_now(fresh_db_url):
    if not fresh_db_url.startswith("postgresql"):
        pytest.skip("the statement-level check is PostgreSQL's")
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    clock = new_clock()
    with Session(engine) as session:
        account = new_account(session, clock)
        session.commit()
        notices: list[str] = []
        raw = session.connection().connection.driver_connection
        raw.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        try:
            session.execute(text("LOAD 'auto_explain'"))
        except Exception:  # needs a superuser or the module preloaded
            pytest.skip("auto_explain cannot be loaded here")
        for setting in (
            "auto_explain.log_min_duration = 0",
            "auto_explain.log_nested_statements = on",
            "client_min_messages = log",
        ):
            session.execute(text(f"SET {setting}"))
        # the session's first insert, invoices empty and analysed so (a database analysed before its
        # first bill run): a batch's lines of invoices not written yet
        session.execute(text("ANALYZE invoices"))
        session.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        with session.begin_nested() as first:
            session.execute(text(LINES), {"first": 10_000_000, "count": 2000})
            first.rollback()
        assert "Seq Scan on invoices" in "".join(_check_plans(notices))  # right for an empty table
        session.execute(
            text(
                "INSERT INTO invoices (account_id, payer_account_id, kind, period_start, period_end,"
                " series, document_type, state, currency, language, idempotency_key, created_at,"
                " updated_at, line_total, allowance_total, tax_total, grand_total, prepaid_amount,"
                " amount_paid, amount_credited, amount_refunded, balance, extras)"
                " SELECT :a, :a, 'cycle', DATE '2027-01-01', DATE '2027-02-01', 'INV', '380', 'draft',"
                " 'EUR', 'fr', 'k' || g, now(), now(), 0, 0, 0, 0, 0, 0, 0, 0, 0, '{}'"
                " FROM generate_series(1, 20000) g"
            ),
            {"a": account.id},
        )
        # no ANALYZE here: it would drop every cached plan that reads the table (autovacuum's comes
        # late, and inserts alone drop none)
        last = session.execute(text("SELECT max(id) FROM invoices")).scalar_one()
        notices.clear()
        session.execute(text(LINES), {"first": last - 9, "count": 10})
        plans = _check_plans(notices)
        assert plans, notices
        assert "Seq Scan on invoices" not in plans[-1], plans[-1]
        assert "Index Scan using pk_invoices on invoices" in plans[-1], plans[-1]
        session.rollback()
    engine.dispose()
