"""When bill runs fall due, for the scheduler: set-based (SQL per calendar) against account by account.

Builds N accounts (1–3 subscriptions each, 31 bill cycle days × 3 timezones, monthly and
quarterly, starts over the last 200 days, one in five with a go-live date) in a scratch database,
then measures `due.due_instants` (what the scheduler's `billing.bill_runs` source asks) against
the account-by-account computation it replaced (`run.next_due` for every payer), in the same run:
before any period is planned, and after a bill run planned the current period. Both must agree.

    .venv/bin/python bench/due_jobs.py [--accounts 20000] [--database postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bill_run import create_scratch, drop_scratch
from telbill.accounts import BillingAccountCreate, CustomerCreate, NewCustomerAccount, bulk_create_accounts
from telbill.billing.due import due_instants
from telbill.billing.run import next_due, plan_run
from telbill.catalog import load_catalog, parse_catalog_text
from telbill.core.clock import TestClock
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.subscriptions import SubscriptionSpec, bulk_create_subscriptions

console = Console()
T0 = datetime(2027, 1, 1, tzinfo=UTC)
UNTIL = datetime(2027, 4, 1, tzinfo=UTC)
CATALOG = """\
catalog: {name: bench, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: mobile
    name: Mobile
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "9.99"}}
"""


def build(url: str, n: int) -> None:
    engine = create_db_engine(url)
    load_all_models().metadata.create_all(engine)
    clock, rng = TestClock(T0), random.Random(5)
    with Session(engine) as session:
        load_catalog(session, clock, parse_catalog_text(CATALOG))
        for first in range(0, n, 10_000):
            specs = [
                NewCustomerAccount(
                    customer=CustomerCreate(kind="person", name=f"Customer {i}", country="FR"),
                    account=BillingAccountCreate(
                        timezone=rng.choice(("Europe/Paris", "Europe/London", "UTC")),
                        bill_cycle_day=rng.randint(1, 31),
                        cycle="monthly" if rng.random() < 0.9 else "quarterly",
                        cycle_anchor=date(2026, 1, 1),
                        billing_start=date(2026, 12, rng.randint(1, 28)) if rng.random() < 0.2 else None,
                    ),
                )
                for i in range(first, min(n, first + 10_000))
            ]
            created = bulk_create_accounts(session, clock, specs)
            subs = [
                SubscriptionSpec(
                    account_id=c.account_id,
                    offer_code="mobile",
                    start_at=T0 - timedelta(days=rng.randint(0, 200), minutes=rng.randint(0, 1439)),
                )
                for c in created
                for _ in range(rng.randint(1, 3))
            ]
            _, rejects = bulk_create_subscriptions(session, clock, subs)
            assert not rejects, rejects[:3]
            session.commit()
    engine.dispose()


def _reference(session: Session) -> Counter[datetime]:
    return Counter(at for _, at in next_due(session) if at <= UNTIL)


def measure(fn: Callable[[], Counter[datetime]], repeat: int = 3) -> tuple[Counter[datetime], float, float]:
    """(result, best CPU seconds of this process, best wall seconds)."""
    best_cpu = best_wall = float("inf")
    result: Counter[datetime] = Counter()
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        result = fn()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return result, best_cpu, best_wall


def compare(url: str, label: str) -> None:
    engine = create_db_engine(url)
    with Session(engine) as session:
        old, old_cpu, old_wall = measure(lambda: _reference(session))
        new, new_cpu, new_wall = measure(lambda: due_instants(session, UNTIL))
        assert new == old, "the set-based count differs from the account-by-account one"
        console.print(
            f"  {label}: {sum(new.values()):,} payers due at {len(new)} instants — account by account "
            f"CPU {old_cpu:.2f} s (wall {old_wall:.2f} s), set-based CPU {new_cpu:.2f} s "
            f"(wall {new_wall:.2f} s) = {old_cpu / max(new_cpu, 1e-9):.1f}x less CPU",
            highlight=False,
        )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()
    console.print(
        f"due jobs: {args.accounts:,} accounts on {args.database}, {platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}",
        highlight=False,
    )
    tmp = tempfile.TemporaryDirectory()
    url = create_scratch() if args.database == "postgresql" else f"sqlite:///{tmp.name}/due.db"
    try:
        build(url, args.accounts)
        compare(url, "nothing planned")
        engine = create_db_engine(url)
        with Session(engine) as session:
            plan_run(session, TestClock(T0), T0)
            session.commit()
        engine.dispose()
        compare(url, "after a run planned 1 Jan")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        console.print(f"  peak RSS {peak:.0f} MB, load {os.getloadavg()[0]:.2f}", highlight=False)
    finally:
        if args.database == "postgresql":
            drop_scratch(url)
        tmp.cleanup()


if __name__ == "__main__":
    main()
