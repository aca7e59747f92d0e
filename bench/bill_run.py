"""Bill run benchmark on PostgreSQL: N accounts with 1–3 subscriptions and a usage aggregate each.

Builds a scratch database (dropped at the end), then measures in the same run:
- the naive baseline on a slice: per account, ORM queries for its subscriptions and usage, a
  Python loop over the charges, one ORM insert (flush) per invoice and per line — rolled back;
- the bill run as `telbill bill-run --workers W` runs it (`billing.parallel`): W worker
  processes start on the plan's first committed steps and claim batches (SKIP LOCKED), computing
  every invoice in pure code and writing them in bulk (`invoicing.bulk`), committing each batch;
- a second run on the same date, which must do nothing.
Documents are excluded (`telbill invoices render` is a separate step).

    .venv/bin/python bench/bill_run.py [--accounts 100000] [--slice 2000] [--workers 2] [--batch 2000]
                                       [--reuse]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import resource
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from rich.console import Console
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from telbill.accounts import BillingAccountCreate, CustomerCreate, NewCustomerAccount, bulk_create_accounts
from telbill.billing.loading import BatchSources
from telbill.billing.parallel import ParallelRun
from telbill.billing.run import BillRunOptions
from telbill.billing.usage import InMemoryUsage, UsageAggregate
from telbill.catalog import get_offer, load_catalog, parse_catalog_text
from telbill.core.clock import TestClock
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.invoicing.model import Invoice, InvoiceLineRow
from telbill.subscriptions import SubscriptionSpec, bulk_create_subscriptions
from telbill.subscriptions.model import Subscription

console = Console()
ADMIN_URL = os.environ.get(
    "TELBILL_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
T0 = datetime(2027, 1, 1, tzinfo=UTC)
RUN_AT = datetime(2027, 2, 1, tzinfo=UTC)
OFFERS = ("mobile-s", "mobile-m", "fibre")
CATALOG = """\
catalog: {name: bench, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
  - {code: fibre, name: Fibre, kind: fixed_broadband}
offers:
  - code: mobile-s
    name: Mobile S
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "9.99"}}
          - type: usage
            code: data
            usage_type: data
            unit: MB
            pricing:
              model: graduated
              tiers:
                - {from: 0, up_to: 1000, unit_price: {EUR: "0.01"}}
                - {from: 1000, up_to: null, unit_price: {EUR: "0.005"}}
        allowances:
          - {code: data, usage_type: data, quantity: 5, unit: GB}
  - code: mobile-m
    name: Mobile M
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "19.99"}}
          - type: usage
            code: data
            usage_type: data
            unit: MB
            pricing: {model: per_unit, unit_price: {EUR: "0.002"}}
        allowances:
          - {code: data, usage_type: data, quantity: 20, unit: GB}
  - code: fibre
    name: Fibre
    kind: plan
    products: [fibre]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "29.99"}}
          - {type: one_time, code: install, kind: activation, price: {EUR: "49.00"}}
"""


# scratch database ---------------------------------------------------------------------------------


def _url(name: str) -> str:
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def create_scratch(template: str | None = None) -> str:
    name = f"telbill_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # FILE_COPY: the copy is not written to the WAL (hundreds of MB that would set off a
        # checkpoint during the measured run)
        copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    return _url(name)


def template_name(accounts: int) -> str:
    """A kept copy of the built data, named by what it depends on (size, catalog, schema: tables,
    keys, indexes and triggers)."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex, CreateTable

    from telbill.invoicing.model import CONTENT_COMPRESSION_DDL, immutability_ddl

    dialect, tables = postgresql.dialect(), load_all_models().metadata.sorted_tables
    ddl = [str(CreateTable(t).compile(dialect=dialect)) for t in tables]
    ddl += [str(CreateIndex(i).compile(dialect=dialect)) for t in tables for i in t.indexes]
    schema = "".join(sorted(ddl)) + "".join(immutability_ddl("postgresql")) + CONTENT_COMPRESSION_DDL
    digest = hashlib.sha256(f"{accounts}|{CATALOG}|{schema}".encode()).hexdigest()[:10]
    return f"telbill_bench_tpl_{accounts}_{digest}"


def ensure_template(accounts: int) -> str:
    """Build the data once into a template database and reuse it (`--reuse`): building 100,000
    accounts takes minutes, a copy of the template seconds."""
    name = template_name(accounts)
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}_building"'))
    admin.dispose()
    if not exists:
        build(_url(f"{name}_building"), accounts)
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}_building" RENAME TO "{name}"'))
        admin.dispose()
    return name


def drop_scratch(url: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


# data ----------------------------------------------------------------------------------------------


def build(url: str, n: int) -> None:
    engine = create_db_engine(url)
    load_all_models().metadata.create_all(engine)
    clock, rng = TestClock(T0), random.Random(11)
    with Session(engine) as session:
        load_catalog(session, clock, parse_catalog_text(CATALOG))
        session.commit()
        for first in range(0, n, 10_000):
            specs = [
                NewCustomerAccount(
                    customer=CustomerCreate(kind="person", name=f"Customer {i}", country="FR"),
                    account=BillingAccountCreate(timezone="UTC", bill_cycle_day=1, cycle_anchor=T0.date()),
                )
                for i in range(first, min(n, first + 10_000))
            ]
            created = bulk_create_accounts(session, clock, specs)
            subs = [
                SubscriptionSpec(account_id=c.account_id, offer_code=rng.choice(OFFERS), start_at=T0)
                for c in created
                for _ in range(rng.randint(1, 3))
            ]
            _, rejects = bulk_create_subscriptions(session, clock, subs)
            assert not rejects, rejects[:3]
            session.commit()
            console.print(f"  built {min(n, first + 10_000):,} accounts", highlight=False)
    with engine.connect() as conn:  # table statistics, as autovacuum keeps them on a live database
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()


def usage_of(url: str) -> InMemoryUsage:
    """One January aggregate per mobile subscription (the usage port's fake, indexed by account)."""
    engine = create_db_engine(url)
    rng = random.Random(5)
    with Session(engine) as session:
        rows = session.execute(
            select(Subscription.id, Subscription.account_id, Subscription.offer_code)
        ).all()
    engine.dispose()
    usage = InMemoryUsage()
    for sid, acc, offer in rows:
        if offer != "fibre":
            mb = Decimal(rng.randint(0, 12_000))
            usage.add(
                UsageAggregate(
                    acc, sid, "data", "data", datetime(2027, 1, 15, tzinfo=UTC), mb, "MB", events=1
                )
            )
    return usage


# naive baseline --------------------------------------------------------------------------------------


def baseline(url: str, slice_size: int, usage: InMemoryUsage) -> float:
    """Per account: ORM query of its subscriptions, usage, a loop over charges, one flush per row."""
    engine = create_db_engine(url)
    clock = TestClock(RUN_AT)
    with Session(engine) as session:
        offers = {code: get_offer(session, code) for code in OFFERS}
        ids = list(session.scalars(select(Subscription.account_id).distinct().limit(slice_size)))
        started = time.perf_counter()
        for acc in ids:
            subs = session.scalars(select(Subscription).where(Subscription.account_id == acc)).all()
            aggregates = usage.aggregates([acc], T0, RUN_AT)
            invoice = Invoice(
                account_id=acc, payer_account_id=acc, kind="baseline", period_start=RUN_AT.date(),
                period_end=RUN_AT.date(), series="INV", document_type="380", state="draft", currency="EUR",
                language="fr", idempotency_key=f"baseline:{acc}", extras={}, created_at=clock.now(),
                updated_at=clock.now(),
            )  # fmt: skip
            session.add(invoice)
            session.flush()
            position = 0
            for sub in subs:
                for charge in offers[sub.offer_code].version(sub.offer_version).charges:
                    amount = Decimal(getattr(charge, "price", {"EUR": Decimal(0)})["EUR"])
                    if charge.type == "usage":
                        used = sum(
                            (a.quantity for a in aggregates if a.subscription_id == sub.id), Decimal(0)
                        )
                        amount = (used * Decimal("0.005")).quantize(Decimal("0.01"))
                    position += 1
                    session.add(
                        InvoiceLineRow(
                            invoice_id=invoice.id, position=position, line_id=f"L{position}",
                            description=charge.code, quantity=Decimal(1), unit_code="C62", unit_price=amount,
                            net_amount=amount, tax_category="S", tax_rate=Decimal(20),
                            charge_kind=charge.type, subscription_id=sub.id,
                        )
                    )  # fmt: skip
                    session.flush()
        elapsed = time.perf_counter() - started
        session.rollback()
    engine.dispose()
    return len(ids) / elapsed


# the bill run -------------------------------------------------------------------------------------------


_USAGE: InMemoryUsage | None = None


def _server_cpu(url: str) -> float:
    """CPU seconds the PostgreSQL server has used so far (this host): its live processes, and
    the backends that have exited, which the postmaster counts once it has reaped them."""
    engine = create_engine(url)
    with engine.connect() as conn:
        data = conn.execute(text("SHOW data_directory")).scalar_one()
    engine.dispose()
    try:
        with open(f"{data}/postmaster.pid") as pid_file:
            postmaster = int(pid_file.readline())
    except OSError:  # a server on another host (or not readable): its CPU is not counted
        return 0.0
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat:
                name, fields = stat.read().split(" (", 1)[1].rsplit(")", 1)
        except OSError:
            continue
        values = fields.split()
        if int(pid) == postmaster:
            total += (int(values[11]) + int(values[12]) + int(values[13]) + int(values[14])) / tick
        elif name == "postgres" and int(values[1]) == postmaster:  # its children
            total += (int(values[11]) + int(values[12])) / tick
    return total


def _wal_position(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        position = conn.execute(text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")).scalar_one()
    engine.dispose()
    return int(position)


def _client_cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bill_run(url: str, workers: int, batch: int) -> tuple[int, float, float, float, float]:
    """The product's parallel run (`billing.parallel`): worker processes start on the plan's
    first steps. (invoices, seconds, seconds until the plan was complete, client CPU s, server
    CPU s — the server's includes planning and its background processes)."""
    engine = create_db_engine(url)
    options = BillRunOptions(batch_size=batch)
    server, client, wal = _server_cpu(url), _client_cpu(), _wal_position(url)
    started = time.perf_counter()
    sources = BatchSources(_USAGE or InMemoryUsage())
    with ParallelRun(engine, TestClock(RUN_AT), RUN_AT, options, workers, sources) as run:
        planned = run.plan()
        planned_at = time.perf_counter() - started
        total = run.wait()
    elapsed = time.perf_counter() - started
    client, server = _client_cpu() - client, _server_cpu(url) - server
    console.print(f"WAL written: {(_wal_position(url) - wal) / 2**20:,.0f} MB")
    with Session(engine) as session:
        invoices = session.execute(select(func.count()).select_from(Invoice)).scalar_one()
    engine.dispose()
    assert total.claimed == planned, (total.claimed, planned)
    return invoices, elapsed, planned_at, client, server


def main() -> None:
    global _USAGE
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--slice", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--reuse", action="store_true", help="keep the built data as a template and reuse it")
    args = parser.parse_args()
    console.print(
        f"[bold]bill run benchmark[/] {platform.node()} {os.cpu_count()} CPUs, {args.accounts:,} accounts"
    )
    t = time.perf_counter()
    url = create_scratch(ensure_template(args.accounts) if args.reuse else None)
    try:
        if not args.reuse:
            build(url, args.accounts)
        _USAGE = usage_of(url)
        console.print(f"built in {time.perf_counter() - t:.0f} s")
        base = baseline(url, args.slice, _USAGE)
        console.print(f"baseline: {base:,.0f} invoices/s on {args.slice:,} accounts")
        before = os.getloadavg()[0]
        invoices, seconds, planning, client, server = bill_run(url, args.workers, args.batch)
        rate = invoices / seconds
        console.print(
            f"bill run: {invoices:,} invoices in {seconds:.1f} s (plan complete at {planning:.1f} s),"
            f" {rate:,.0f}/s"
            f" (load average {before:.1f} before, {os.getloadavg()[0]:.1f} after)"
        )
        per, cores = 1000 / max(invoices, 1), min(args.workers, os.cpu_count() or 1)
        both = (client + server) * per
        console.print(
            f"CPU per invoice: workers {client * per:.3f} ms + PostgreSQL (all its processes)"
            f" {server * per:.3f} ms = {both:.3f} ms; {cores} busy cores allow {cores * 1000 / both:,.0f}/s"
        )
        _, again, _, _, _ = bill_run(url, args.workers, args.batch)
        console.print(f"second run on the same date: nothing to do, {again:.2f} s")
        print(f"bill_run: {rate:,.0f} invoices/s vs baseline {base:,.0f} invoices/s = {rate / base:.1f}x")
    finally:
        drop_scratch(url)


if __name__ == "__main__":
    main()
