"""`telbill orders ...`: place product orders and look at them."""

from __future__ import annotations

import typer
from rich.table import Table

from telbill.cli.context import console, ctx_of
from telbill.core.clock import parse_instant
from telbill.core.errors import ValidationFailed
from telbill.subscriptions import (
    OrderCreate,
    OrderItemCreate,
    ServiceIdIn,
    get_order,
    list_orders,
    order_items,
    place_order,
)

app = typer.Typer(help="Product orders: create, list, show.", no_args_is_help=True)


@app.command("create")
def create_cmd(
    ctx: typer.Context,
    account: str = typer.Option(..., "--account", help="Billing account number (ACC-...) or id."),
    offer: list[str] = typer.Option(..., "--offer", help="Offer code; repeat for several subscriptions."),
    msisdn: list[str] = typer.Option([], "--msisdn", help="MSISDN of each offer, in the same order."),
    quantity: int = typer.Option(1, "--quantity", min=1),
    at: str | None = typer.Option(None, "--at", help="Requested start (ISO); default now."),
    external_id: str | None = typer.Option(None, "--external-id"),
) -> None:
    """Order one subscription per --offer; the order completes whole or fails with its reasons."""
    if len(msisdn) > len(offer):
        raise ValidationFailed("more --msisdn than --offer")
    cli = ctx_of(ctx)
    start = parse_instant(at, cli.settings.default_timezone) if at else None
    items = [
        OrderItemCreate(
            offer_code=code,
            quantity=quantity,
            service_ids=[ServiceIdIn(type="msisdn", value=msisdn[i])] if i < len(msisdn) else [],
        )
        for i, code in enumerate(offer)
    ]
    spec = OrderCreate(account=account, items=items, requested_at=start, external_id=external_id)
    with cli.unit_of_work() as session:
        order = place_order(
            session, cli.clock(session), spec, backdate_limit_days=cli.settings.backdate_limit_days
        )
        order_id, state, reasons = order.id, order.state, list(order.failure_reasons)
        created = [i.subscription_id for i in order_items(session, order.id)]
    if state == "failed":  # the failed order is recorded (committed) with its reasons
        raise ValidationFailed(f"order {order_id} failed", details=reasons)
    console.print(f"[green]order {order_id} completed[/]: subscription(s) {', '.join(map(str, created))}")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    state: str | None = typer.Option(None, "--state"),
    limit: int = typer.Option(50, "--limit"),
) -> None:
    """List orders, newest first."""
    with ctx_of(ctx).unit_of_work() as session:
        table = Table("id", "account", "state", "created", "reasons")
        for o in list_orders(session, state=state, limit=limit):
            table.add_row(
                str(o.id), o.account_ref, o.state, o.created_at.isoformat(), "; ".join(o.failure_reasons)
            )
        console.print(table)


@app.command("show")
def show_cmd(ctx: typer.Context, order_id: int) -> None:
    """Show an order and its items."""
    with ctx_of(ctx).unit_of_work() as session:
        o = get_order(session, order_id)
        console.print(
            f"[bold]order {o.id}[/] account {o.account_ref} · {o.state} · {o.created_at.isoformat()}"
        )
        for reason in o.failure_reasons:
            console.print(f"  [red]{reason}[/]")
        table = Table("#", "action", "offer", "qty", "service ids", "subscription")
        for i in order_items(session, o.id):
            ids = ", ".join(f"{s['type']} {s['value']}" for s in i.service_ids)
            table.add_row(
                str(i.position),
                i.action,
                i.offer_code or "",
                str(i.quantity or ""),
                ids,
                str(i.subscription_id or ""),
            )
        console.print(table)
