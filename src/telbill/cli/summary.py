"""Rich tables that summarise what an operator's database holds."""

from __future__ import annotations

from collections import Counter

from rich.table import Table
from sqlalchemy.orm import Session

from telbill import accounts, catalog, subscriptions
from telbill.catalog.charges import RecurringCharge
from telbill.cli.context import console


def print_operator_summary(session: Session) -> None:
    console.print(_offers_table(session))
    table, line = _accounts_table(session)
    console.print(table)
    console.print(line)
    console.print(_subscriptions_table(session))


def _offers_table(session: Session) -> Table:
    table = Table(title="Offers", title_justify="left")
    for col in ("offer", "kind", "versions", "recurring price (latest version)"):
        table.add_column(col)
    for offer in catalog.list_offers(session):
        latest = offer.versions[-1]
        prices = [
            ", ".join(f"{amount} {cur}" for cur, amount in sorted(c.price.items()))
            for c in latest.charges
            if isinstance(c, RecurringCharge)
        ]
        table.add_row(offer.code, offer.kind.value, str(len(offer.versions)), "; ".join(prices) or "—")
    return table


def _accounts_table(session: Session) -> tuple[Table, str]:
    rows = accounts.list_accounts(session, limit=10**9)
    by = Counter((a.currency, a.language) for a in rows)
    table = Table(title=f"Billing accounts: {len(rows)}", title_justify="left")
    for col in ("currency", "language", "accounts"):
        table.add_column(col)
    for (cur, lang), n in sorted(by.items()):
        table.add_row(cur, lang, str(n))
    paid_by_parent = sum(1 for a in rows if a.payment_responsibility == "parent")
    heads = sum(1 for a in rows if a.pays_for_children)
    timezones = len({a.timezone for a in rows})
    days = len({a.bill_cycle_day for a in rows})
    line = (
        f"{heads} parent accounts paying for {paid_by_parent} children · {timezones} timezones · "
        f"{days} distinct bill cycle days"
    )
    return table, line


def _subscriptions_table(session: Session) -> Table:
    by_state = subscriptions.count_by_state(session)
    table = Table(title=f"Subscriptions: {sum(by_state.values())}", title_justify="left")
    table.add_column("state")
    table.add_column("subscriptions", justify="right")
    for state in ("pending", "trial", "active", "suspended", "cancelled"):
        table.add_row(state, str(by_state.get(state, 0)))
    return table
