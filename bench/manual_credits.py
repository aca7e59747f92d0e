"""Cost of reading manual credit notes for reconciliation, per bill-run batch, on PostgreSQL.

A scratch database gets 100,000 cycle invoices (2 keyed lines each) of 50,000 payers and 1,000
manual credit notes (1 %, one line credit each), written with set-based SQL (foreign keys to
accounts dropped: only the invoice tables are read). For batches of 1,000 payers it times
`repository.manually_credited` (measured) against `repository.billed_lines` (baseline: the read
every batch already does), wall and CPU time, and prints the query plan of the first.

    .venv/bin/python bench/manual_credits.py
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import date

from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from telbill.billing import repository
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models

ADMIN_URL = os.environ.get(
    "TELBILL_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SINCE = date(2027, 1, 31)
COMMON = """account_id, payer_account_id, kind, period_start, period_end, series, document_type, state,
  currency, language, line_total, allowance_total, tax_total, grand_total, prepaid_amount, amount_paid,
  amount_credited, amount_refunded, balance, extras, idempotency_key, created_at, updated_at, number"""
SEED = [
    "ALTER TABLE invoices DISABLE TRIGGER USER",
    "ALTER TABLE invoice_lines DISABLE TRIGGER USER",
    "ALTER TABLE invoices DROP CONSTRAINT fk_invoices_account_id_billing_accounts",
    "ALTER TABLE invoices DROP CONSTRAINT fk_invoices_payer_account_id_billing_accounts",
    f"""INSERT INTO invoices (id, {COMMON})
    SELECT g, g % 50000 + 1, g % 50000 + 1, 'cycle', DATE '2027-01-01' + (g / 50000) * 31,
      DATE '2027-01-31' + (g / 50000) * 28, 'INV', '380', 'finalised', 'EUR', 'fr', 30, 0, 6, 36, 0, 0, 0, 0,
      36, '{{}}', 'k' || g, now(), now(), 'INV-' || g FROM generate_series(1, 100000) g""",
    """INSERT INTO invoice_lines (id, invoice_id, position, line_id, description, quantity, unit_code,
      unit_price, net_amount, tax_category, tax_rate, charge_kind, source_ref)
    SELECT g, (g + 1) / 2, g % 2, 'L' || g % 2, 'fee', 1, 'C62', 15, 15, 'S', 20, 'recurring',
      'rc|' || g || '|x|fee|2027-01-01' FROM generate_series(1, 200000) g""",
    f"""INSERT INTO invoices (id, preceding_invoice_id, {COMMON})
    SELECT 200000 + g, 50001 + g * 97 % 50000, g * 97 % 50000 + 1, g * 97 % 50000 + 1, 'credit_note',
      DATE '2027-02-01', DATE '2027-02-28', 'CN', '381', 'finalised', 'EUR', 'fr', 5, 0, 1, 6, 0, 0, 0, 0, 0,
      '{{}}', 'c' || g, now(), now(), 'CN-' || g FROM generate_series(1, 1000) g""",
    """INSERT INTO invoice_lines (id, invoice_id, position, line_id, description, quantity, unit_code,
      unit_price, net_amount, tax_category, tax_rate, charge_kind, credited_line_id)
    SELECT 300000 + g, 200000 + g, 1, '1', 'credit', 1, 'C62', 5, 5, 'S', 20, 'recurring',
      (50000 + g * 97 % 50000) * 2 + 1 FROM generate_series(1, 1000) g""",
    "ANALYZE",
]


def _plan(engine, payers: list[int]) -> str:  # type: ignore[no-untyped-def]
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    with Session(engine) as s:
        repository.manually_credited(s, payers, SINCE)
    event.remove(engine, "before_cursor_execute", grab)
    with Session(engine) as s:
        rows = s.connection().exec_driver_sql("EXPLAIN ANALYZE " + seen[0][0], seen[0][1]).all()  # type: ignore[arg-type]
    return "\n".join(r[0][:160] for r in rows)


def _time(engine, fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    wall, cpu = [], []
    with Session(engine) as s:
        for _ in range(3):
            for start in range(1, 50001, 1000):
                t, c = time.perf_counter(), time.process_time()
                fn(s, list(range(start, start + 1000)), SINCE)
                wall.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
    return sum(wall) / len(wall) * 1000, sum(cpu) / len(cpu) * 1000


def main() -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"telbill_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_db_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        load_all_models().metadata.create_all(engine)
        with engine.begin() as c:
            for statement in SEED:
                c.execute(text(statement))
        print(_plan(engine, list(range(1, 1001))))
        load = os.getloadavg()[0]
        base_wall, base_cpu = _time(engine, repository.billed_lines)
        wall, cpu = _time(engine, repository.manually_credited)
        print(f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after")
        print(f"baseline billed_lines: {base_wall:.1f} ms wall, {base_cpu:.1f} ms CPU per 1,000 payers")
        print(f"manual_credits: {wall:.1f} ms wall, {cpu:.1f} ms CPU per 1,000 payers vs baseline read")
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
