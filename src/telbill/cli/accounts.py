"""`telbill accounts ...`: customers and billing accounts, their preferences and their tree.

Every command is one transaction: a bad value raises ValidationFailed (exit 2) and nothing is written.
Options left out are not passed on, so the spec's defaults (or the paying parent's values) apply.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from rich.tree import Tree
from sqlalchemy.orm import Session

from telbill import accounts
from telbill.accounts import BillingAccount
from telbill.billing import has_been_billed
from telbill.cli.context import console, ctx_of
from telbill.core.clock import parse_instant
from telbill.core.errors import ValidationFailed
from telbill.subscriptions import has_subscriptions

app = typer.Typer(
    help="Customers and billing accounts: create, list, show, update, tree.", no_args_is_help=True
)


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _communication(items: list[str] | None) -> dict[str, dict[str, Any]] | None:
    """TYPE=CHANNEL[:opt-in|opt-out], e.g. marketing=sms:opt-in or dunning=post."""
    if not items:
        return None
    result: dict[str, dict[str, Any]] = {}
    for item in items:
        kind, sep, rest = item.partition("=")
        channel, _, flag = rest.partition(":")
        if not sep or flag not in ("", "opt-in", "opt-out"):
            raise ValidationFailed(f"--communication {item!r}: expected TYPE=CHANNEL[:opt-in|opt-out]")
        result[kind.strip()] = {"channel": channel.strip(), "opt_in": flag != "opt-out"}
    return result


@app.command("create")
def create_cmd(
    ctx: typer.Context,
    name: str | None = typer.Option(None, "--name", help="Customer name (a new customer)."),
    kind: str = typer.Option("company", "--kind", help="person or company."),
    country: str | None = typer.Option(None, "--country", help="ISO 3166 alpha-2 country of the customer."),
    vat: str | None = typer.Option(None, "--vat", help="EU VAT number (checked)."),
    registration: str | None = typer.Option(None, "--registration", help="SIREN/SIRET or company number."),
    segment: str | None = typer.Option(
        None, "--segment", help="consumer, smb, enterprise, wholesale, public."
    ),
    customer: str | None = typer.Option(None, "--customer", help="Existing customer number (CUS-...)."),
    account_name: str | None = typer.Option(None, "--account-name", help="Default: the customer name."),
    currency: str | None = typer.Option(None, "--currency"),
    timezone: str | None = typer.Option(None, "--timezone", help="IANA timezone, e.g. Europe/Paris."),
    language: str | None = typer.Option(None, "--language", help="fr or en."),
    cycle_day: int | None = typer.Option(None, "--cycle-day", help="Bill cycle day 1–31."),
    cycle: str | None = typer.Option(None, "--cycle", help="monthly, quarterly, annual, 14d, 2w, 6m..."),
    parent: str | None = typer.Option(None, "--parent", help="Parent account number (ACC-...)."),
    pays_for_children: bool = typer.Option(
        False, "--pays-for-children", help="Invoice children on this one."
    ),
    paid_by_parent: bool | None = typer.Option(None, "--paid-by-parent/--self-paid"),
    payment_terms: int | None = typer.Option(None, "--payment-terms", help="Net days, 0–120."),
    delivery: str | None = typer.Option(None, "--delivery", help="email, portal or paper."),
    credit_limit: str | None = typer.Option(None, "--credit-limit", help="In the account currency."),
    communication: list[str] | None = typer.Option(None, "--communication", help="TYPE=CHANNEL[:opt-out]."),
    email: str | None = typer.Option(None, "--email", help="Billing contact email."),
    phone: str | None = typer.Option(None, "--phone", help="Billing contact phone."),
    billing_start: str | None = typer.Option(
        None, "--billing-start", help="Go-live date (YYYY-MM-DD): bill from it, not from the start."
    ),
) -> None:
    """Create a billing account, and its customer unless --customer names an existing one."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        clock = cli.clock(session)
        if customer:
            owner = accounts.get_customer_by_number(session, customer)
        else:
            if not name or not country:
                raise ValidationFailed(
                    "a new customer needs --name and --country (or give --customer CUS-...)"
                )
            spec = accounts.parse_spec(
                accounts.CustomerCreate,
                **_given(
                    kind=kind, name=name, country=country, vat_number=vat, registration_number=registration
                ),
                **_given(segment=segment),
            )
            owner = accounts.create_customer(session, clock, spec)
        parent_id = accounts.get_account_by_number(session, parent).id if parent else None
        responsibility = None if paid_by_parent is None else ("parent" if paid_by_parent else "self")
        account_spec = accounts.parse_spec(
            accounts.BillingAccountCreate,
            customer_id=owner.id,
            pays_for_children=pays_for_children,
            **_given(
                name=account_name,
                parent_id=parent_id,
                payment_responsibility=responsibility,
                currency=currency,
                timezone=timezone,
                language=language,
                bill_cycle_day=cycle_day,
                cycle=cycle,
                payment_terms_days=payment_terms,
                invoice_delivery=delivery,
                credit_limit=credit_limit,
                communication=_communication(communication),
                billing_start=billing_start,
            ),
        )
        account = accounts.create_billing_account(session, clock, account_spec)
        if email or phone:
            contact = accounts.parse_spec(
                accounts.ContactCreate,
                billing_account_id=account.id,
                name=owner.name,
                **_given(email=email, phone=phone),
            )
            accounts.add_contact(session, clock, contact)
        console.print(f"[green]created {account.number}[/] for customer {owner.number} ({owner.name})")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="active or closed."),
    currency: str | None = typer.Option(None, "--currency"),
    customer: str | None = typer.Option(None, "--customer", help="Customer number."),
    parent: str | None = typer.Option(None, "--parent", help="Children of this account."),
    roots: bool = typer.Option(False, "--roots", help="Only accounts without a parent."),
    search: str | None = typer.Option(None, "--search", help="Part of the name or number."),
    limit: int = typer.Option(50, "--limit"),
    offset: int = typer.Option(0, "--offset"),
) -> None:
    """List billing accounts."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        filters = _given(
            status=status,
            currency=currency.upper() if currency else None,
            customer_id=accounts.get_customer_by_number(session, customer).id if customer else None,
            parent_id=accounts.get_account_by_number(session, parent).id if parent else None,
            search=search,
        )
        rows = accounts.list_accounts(session, roots_only=roots, limit=limit, offset=offset, **filters)
        total = accounts.count_accounts(session, roots_only=roots, **filters)
        table = Table(title=f"billing accounts ({len(rows)} of {total})")
        for column in ("number", "name", "status", "currency", "cycle", "BCD", "timezone", "parent", "payer"):
            table.add_column(column)
        parents = {p.id: p.number for p in _parents_of(session, rows)}
        for a in rows:
            table.add_row(
                a.number,
                a.name,
                a.status,
                a.currency,
                a.cycle_name,
                str(a.bill_cycle_day),
                a.timezone,
                parents.get(a.parent_id or 0, ""),
                a.payment_responsibility,
            )
        console.print(table)


def _parents_of(session: Session, rows: Any) -> list[BillingAccount]:
    return [accounts.get_account(session, pid) for pid in {a.parent_id for a in rows if a.parent_id}]


@app.command("show")
def show_cmd(ctx: typer.Context, number: str = typer.Argument(..., help="Account number (ACC-...).")) -> None:
    """Show an account: customer, preferences, contacts, children, cycle history."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        a = accounts.get_account_by_number(session, number)
        owner = accounts.get_customer(session, a.customer_id)
        payer = accounts.payer_of(session, a.id)
        table = Table(title=f"{a.number} — {a.name}", show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value")
        for field, value in _preference_rows(a, owner, payer):
            table.add_row(field, value)
        console.print(table)
        contacts = accounts.list_contacts(session, customer_id=owner.id)
        for c in contacts:
            roles = ", ".join(c.roles)
            console.print(f"contact: {c.name} [{roles}] {c.email or ''} {c.phone or ''}".rstrip())
        for child in accounts.list_accounts(session, parent_id=a.id, limit=1000):
            console.print(f"child: {child.number} {child.name} (paid by {child.payment_responsibility})")
        for change in accounts.cycle_history(session, a.id):
            console.print(
                f"cycle change at {change.effective_at.isoformat()}: BCD {change.old_bill_cycle_day} → "
                f"{change.new_bill_cycle_day}, {change.old_cycle_count} {change.old_cycle_unit} → "
                f"{change.new_cycle_count} {change.new_cycle_unit}"
            )


def _preference_rows(
    a: BillingAccount, owner: accounts.Customer, payer: BillingAccount
) -> list[tuple[str, str]]:
    comms = ", ".join(
        f"{kind}={p['channel']}{'' if p['opt_in'] else ' (opted out)'}"
        for kind, p in sorted(a.communication.items())
    )
    exemption = "no"
    if a.tax_exempt:
        until = a.tax_exempt_until.isoformat() if a.tax_exempt_until else "open-ended"
        exemption = (
            f"yes: {a.tax_exemption_reason} (certificate {a.tax_exemption_certificate or '-'}, until {until})"
        )
    limit = a.credit_limit_money
    return [
        (
            "customer",
            f"{owner.number} {owner.name} ({owner.kind}, {owner.country}, VAT {owner.vat_number or '-'})",
        ),
        ("status", a.status),
        ("invoiced on", payer.number if payer.id != a.id else "its own invoice"),
        ("pays for children", "yes" if a.pays_for_children else "no"),
        ("currency", a.currency),
        ("timezone", a.timezone),
        ("language", a.language),
        ("bill cycle", f"{a.cycle_name}, day {a.bill_cycle_day}, anchor {a.cycle_anchor.isoformat()}"),
        ("billed from", a.billing_start.isoformat() if a.billing_start else "its subscriptions' start"),
        ("payment terms", f"net {a.payment_terms_days} days"),
        ("invoice delivery", a.invoice_delivery),
        ("communication", comms),
        ("tax exempt", exemption),
        ("credit limit", str(limit) if limit is not None else "none"),
    ]


@app.command("update")
def update_cmd(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Account number (ACC-...)."),
    name: str | None = typer.Option(None, "--name"),
    currency: str | None = typer.Option(
        None, "--currency", help="Only while the account has no subscriptions."
    ),
    timezone: str | None = typer.Option(None, "--timezone"),
    language: str | None = typer.Option(None, "--language"),
    payment_terms: int | None = typer.Option(None, "--payment-terms"),
    delivery: str | None = typer.Option(None, "--delivery"),
    credit_limit: str | None = typer.Option(
        None, "--credit-limit", help="An amount, or 'none' to remove it."
    ),
    status: str | None = typer.Option(None, "--status", help="active or closed."),
    pays_for_children: bool | None = typer.Option(None, "--pays-for-children/--no-pays-for-children"),
    communication: list[str] | None = typer.Option(None, "--communication", help="TYPE=CHANNEL[:opt-out]."),
    cycle_day: int | None = typer.Option(
        None, "--cycle-day", help="New bill cycle day (recorded in history)."
    ),
    cycle: str | None = typer.Option(None, "--cycle", help="New cycle length."),
    effective: str | None = typer.Option(None, "--effective", help="When a cycle change applies (ISO)."),
    billing_start: str | None = typer.Option(
        None, "--billing-start", help="Go-live date (YYYY-MM-DD), or 'none'; only before the first bill run."
    ),
) -> None:
    """Change preferences; a bill cycle change is recorded so billing can prorate across it."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        clock = cli.clock(session)
        account = accounts.get_account_by_number(session, number)
        values = _given(
            name=name,
            currency=currency,
            timezone=timezone,
            language=language,
            payment_terms_days=payment_terms,
            invoice_delivery=delivery,
            status=status,
            pays_for_children=pays_for_children,
            communication=_communication(communication),
        )
        if credit_limit is not None:
            values["credit_limit"] = None if credit_limit.strip().lower() == "none" else credit_limit
        if billing_start is not None:
            values["billing_start"] = None if billing_start.strip().lower() == "none" else billing_start
        if values:
            changes = accounts.parse_spec(accounts.PreferencesUpdate, **values)
            accounts.update_preferences(
                session,
                clock,
                account.id,
                changes,
                has_subscriptions=has_subscriptions,
                has_been_billed=has_been_billed,
            )
        if cycle_day is not None or cycle is not None:
            when = parse_instant(effective, account.timezone) if effective else None
            accounts.change_bill_cycle(
                session, clock, account.id, day=cycle_day, cycle=cycle, effective_at=when
            )
        elif effective:
            raise ValidationFailed("--effective applies to a cycle change: give --cycle-day or --cycle")
        console.print(f"[green]updated {account.number}[/]")


@app.command("move")
def move_cmd(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Account to move."),
    parent: str | None = typer.Option(None, "--parent", help="New parent account; leave out with --root."),
    root: bool = typer.Option(False, "--root", help="Make it a root account."),
    paid_by_parent: bool | None = typer.Option(None, "--paid-by-parent/--self-paid"),
) -> None:
    """Move an account (and its subtree) under another parent."""
    if root == (parent is not None):
        raise ValidationFailed("give exactly one of --parent ACC-... or --root")
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        account = accounts.get_account_by_number(session, number)
        new_parent = accounts.get_account_by_number(session, parent).id if parent else None
        responsibility = None if paid_by_parent is None else ("parent" if paid_by_parent else "self")
        accounts.move_account(
            session, cli.clock(session), account.id, new_parent, payment_responsibility=responsibility
        )
        console.print(f"[green]moved {account.number}[/] under {parent or 'no parent'}")


@app.command("tree")
def tree_cmd(ctx: typer.Context, number: str = typer.Argument(..., help="Root of the tree to show.")) -> None:
    """Show the account tree below an account; children invoiced on their parent are marked."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        node = accounts.account_tree(session, accounts.get_account_by_number(session, number).id)
        tree = Tree(_label(node.account))
        _grow(tree, node)
        console.print(tree)


def _label(a: BillingAccount) -> str:
    paid = " [dim](on parent's invoice)[/]" if a.payment_responsibility == "parent" else ""
    closed = " [red]closed[/]" if a.status == "closed" else ""
    return f"{a.number} {a.name} · {a.currency} · {a.cycle_name} day {a.bill_cycle_day}{paid}{closed}"


def _grow(branch: Tree, node: accounts.AccountNode) -> None:
    for child in node.children:
        _grow(branch.add(_label(child.account)), child)
