"""`telbill subscriptions ...`: look at subscriptions and change them (now, backdated or scheduled)."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from telbill.cli.context import CliContext, console, ctx_of
from telbill.core.clock import parse_instant
from telbill.subscriptions import (
    cancel,
    change_plan,
    change_quantity,
    get_subscription,
    history,
    list_subscriptions,
    resume,
    suspend,
)
from telbill.subscriptions.repository import identifiers_of, pending_charges_of

app = typer.Typer(
    help="Subscriptions: list, show, suspend, resume, cancel, change plan or quantity.", no_args_is_help=True
)
AT = typer.Option(None, "--at", help="Effective instant (ISO): past = backdated, future = scheduled.")


def _at(cli: CliContext, text: str | None) -> datetime | None:
    return parse_instant(text, cli.settings.default_timezone) if text else None


def _done(change) -> None:  # type: ignore[no-untyped-def]
    verb = "applied" if change.status == "applied" else "scheduled"
    console.print(
        f"[green]{change.kind} {verb}[/] for subscription {change.subscription_id} "
        f"at {change.effective_at.isoformat()}"
    )


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    account: int | None = typer.Option(None, "--account", help="Billing account id."),
    state: str | None = typer.Option(None, "--state"),
    limit: int = typer.Option(50, "--limit"),
) -> None:
    """List subscriptions."""
    with ctx_of(ctx).unit_of_work() as session:
        table = Table("id", "account", "offer", "qty", "state", "phase", "start")
        for s in list_subscriptions(session, account_id=account, state=state, limit=limit):
            table.add_row(
                str(s.id),
                str(s.account_id),
                f"{s.offer_code} v{s.offer_version}",
                str(s.quantity),
                s.state,
                s.phase or "",
                s.start_at.isoformat(),
            )
        console.print(table)


@app.command("show")
def show_cmd(ctx: typer.Context, subscription_id: int) -> None:
    """Show a subscription, its identifiers, its changes and pending charges."""
    with ctx_of(ctx).unit_of_work() as session:
        s = get_subscription(session, subscription_id)
        console.print(
            f"[bold]subscription {s.id}[/] account {s.account_id} · {s.offer_code} v{s.offer_version} "
            f"× {s.quantity} · {s.state} ({s.phase or '-'})"
        )
        for label, value in (
            ("start", s.start_at),
            ("trial end", s.trial_end),
            ("commitment end", s.commitment_end),
            ("cancelled", s.cancelled_at),
        ):
            if value is not None:
                console.print(f"  {label}: {value.isoformat()}")
        for i in identifiers_of(session, s.id):
            until = i.valid_to.isoformat() if i.valid_to else "open"
            console.print(f"  {i.type} {i.value} [{i.valid_from.isoformat()} → {until})")
        table = Table("change", "kind", "effective", "status", "note")
        for c in history(session, s.id):
            table.add_row(str(c.id), c.kind, c.effective_at.isoformat(), c.status, c.note or "")
        console.print(table)
        for charge in pending_charges_of(session, s.id):
            console.print(f"  pending charge: {charge.description}: {charge.amount} {charge.currency}")


@app.command("suspend")
def suspend_cmd(
    ctx: typer.Context,
    subscription_id: int,
    at: str | None = AT,
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Suspend an active subscription."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        _done(
            suspend(
                session,
                cli.clock(session),
                subscription_id,
                at=_at(cli, at),
                reason=reason,
                backdate_limit_days=cli.settings.backdate_limit_days,
            )
        )


@app.command("resume")
def resume_cmd(ctx: typer.Context, subscription_id: int, at: str | None = AT) -> None:
    """Resume a suspended subscription."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        _done(
            resume(
                session,
                cli.clock(session),
                subscription_id,
                at=_at(cli, at),
                backdate_limit_days=cli.settings.backdate_limit_days,
            )
        )


@app.command("cancel")
def cancel_cmd(
    ctx: typer.Context,
    subscription_id: int,
    now: bool = typer.Option(False, "--now", help="Cancel at once."),
    end_of_period: bool = typer.Option(False, "--end-of-period", help="At the end of the billing period."),
    at: str | None = AT,
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Cancel (default: the offer's cancellation policy)."""
    cli = ctx_of(ctx)
    when = "now" if now else ("end_of_period" if end_of_period else None)
    with cli.unit_of_work() as session:
        _done(
            cancel(
                session,
                cli.clock(session),
                subscription_id,
                when=when,
                at=_at(cli, at),
                reason=reason,
                backdate_limit_days=cli.settings.backdate_limit_days,
            )
        )


@app.command("change-plan")
def change_plan_cmd(
    ctx: typer.Context,
    subscription_id: int,
    offer: str = typer.Argument(..., help="Code of the new offer."),
    at: str | None = AT,
    timing: str | None = typer.Option(None, "--timing", help="immediate | end_of_period (default: policy)."),
) -> None:
    """Move to another offer (upgrade or downgrade)."""
    cli = ctx_of(ctx)
    if timing not in (None, "immediate", "end_of_period"):
        raise typer.BadParameter("--timing is immediate or end_of_period")
    with cli.unit_of_work() as session:
        _done(
            change_plan(
                session,
                cli.clock(session),
                subscription_id,
                offer,
                at=_at(cli, at),
                timing=timing,
                backdate_limit_days=cli.settings.backdate_limit_days,
            )
        )  # type: ignore[arg-type]


@app.command("change-quantity")
def change_quantity_cmd(ctx: typer.Context, subscription_id: int, quantity: int, at: str | None = AT) -> None:
    """Change the quantity (seats, lines) of a subscription."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        _done(
            change_quantity(
                session,
                cli.clock(session),
                subscription_id,
                quantity,
                at=_at(cli, at),
                backdate_limit_days=cli.settings.backdate_limit_days,
            )
        )
