"""`telbill coupons ...`: create coupons and promo codes, redeem, revoke, and report effectiveness."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import typer
from rich.table import Table

from telbill import promotions
from telbill.accounts import get_account, get_account_by_number
from telbill.analytics import InvoiceStoreRevenue, coupon_effectiveness, load_effectiveness_data
from telbill.cli.context import CliContext, console, ctx_of
from telbill.core.clock import parse_instant
from telbill.core.errors import ValidationFailed

app = typer.Typer(
    help="Coupons and promo codes: create, list, show, redeem, revoke, report.", no_args_is_help=True
)


def _instant(cli: CliContext, text: str | None) -> datetime | None:
    return parse_instant(text, cli.settings.default_timezone) if text else None


def _amounts(values: list[str]) -> dict[str, str]:
    """'5.00 EUR' or 'EUR 5.00' (or EUR:5.00), one per currency."""
    found: dict[str, str] = {}
    for value in values:
        parts = value.replace(":", " ").split()
        if len(parts) != 2:
            raise ValidationFailed(
                f"--amount takes an amount and a currency, such as '5.00 EUR', got {value!r}"
            )
        amount, code = parts if parts[1].isalpha() else reversed(parts)
        if code.upper() in found:
            raise ValidationFailed(f"--amount gives {code.upper()} twice")
        found[code.upper()] = amount
    return found


def _scope(text: str) -> dict[str, Any]:
    """invoice | offer:CODE[,CODE] | charge:KIND[,KIND]."""
    kind, _, targets = text.partition(":")
    names = {"invoice": "invoice", "offer": "product", "product": "product", "charge": "charge_kind"}
    if kind not in names or (kind == "invoice") != (not targets):
        raise ValidationFailed(
            f"--scope is 'invoice', 'offer:CODE[,CODE]' or 'charge:KIND[,KIND]', got {text!r}"
        )
    return {"scope": names[kind], "targets": [t for t in targets.split(",") if t]}


def _duration(once: bool, cycles: int | None, forever: bool) -> dict[str, Any]:
    chosen = [
        name
        for name, on in (("--once", once), ("--cycles", cycles is not None), ("--forever", forever))
        if on
    ]
    if len(chosen) > 1:
        raise ValidationFailed(f"give one of --once, --cycles N, --forever (got {', '.join(chosen)})")
    if cycles is not None:
        return {"duration": "cycles", "cycles": cycles}
    return {"duration": "forever" if forever else "once"}


@app.command("create")
def create_cmd(
    ctx: typer.Context,
    code: str = typer.Option(..., "--code", help="The coupon code customers type (case does not matter)."),
    name: str | None = typer.Option(None, "--name", help="Shown on invoices; default: the code."),
    percent: str | None = typer.Option(None, "--percent", help="Percentage off, e.g. 20."),
    amount: list[str] = typer.Option(
        [], "--amount", help="Amount off per currency, e.g. '5.00 EUR'; repeat."
    ),
    once: bool = typer.Option(False, "--once", help="One cycle (the default)."),
    cycles: int | None = typer.Option(None, "--cycles", help="Number of bill cycles."),
    forever: bool = typer.Option(False, "--forever"),
    scope: str = typer.Option("invoice", "--scope", help="invoice | offer:CODE[,CODE] | charge:KIND[,KIND]"),
    new_customers_only: bool = typer.Option(False, "--new-customers-only"),
    segment: list[str] = typer.Option([], "--segment", help="Eligible segment; repeat. Default: any."),
    country: list[str] = typer.Option([], "--country", help="Eligible country; repeat. Default: any."),
    max_redemptions: int | None = typer.Option(
        None, "--max-redemptions", help="In total; default unlimited."
    ),
    max_per_account: int = typer.Option(1, "--max-per-account", help="0: unlimited."),
    valid_from: str | None = typer.Option(None, "--valid-from", help="ISO date or datetime."),
    valid_to: str | None = typer.Option(None, "--valid-to", help="ISO date or datetime (exclusive)."),
    exclusive: bool = typer.Option(False, "--exclusive", help="Applies alone, if nothing else has."),
    priority: int = typer.Option(100, "--priority", help="Lower applies first."),
    promo: list[str] = typer.Option([], "--promo-code", help="A public code for this coupon; repeat."),
) -> None:
    """Create a coupon (and its promo codes). Nothing is written if anything is wrong."""
    cli = ctx_of(ctx)
    spec = promotions.parse(
        promotions.CouponCreate,
        code=code,
        name=name or code,
        kind="amount" if amount else "percentage",
        percent=percent,
        amounts=_amounts(amount),
        **_duration(once, cycles, forever),
        **_scope(scope),
        new_customers_only=new_customers_only,
        segments=segment or None,
        countries=country or None,
        valid_from=_instant(cli, valid_from),
        valid_until=_instant(cli, valid_to),
        max_redemptions=max_redemptions,
        max_per_account=max_per_account or None,
        stacking="exclusive" if exclusive else "stackable",
        priority=priority,
    )
    with cli.unit_of_work() as session:
        clock = cli.clock(session)
        row = promotions.create_coupon(session, clock, spec)
        for public in promo:
            promotions.add_promo_code(session, clock, row.code, public)
    console.print(f"[green]created coupon {spec.code}[/]: {_terms(row)}")


def _terms(row: promotions.CouponRow) -> str:
    if row.kind == "percentage":
        off = f"{_plain(row.percent)} %"
    else:
        off = " / ".join(f"{v} {c}" for c, v in sorted(row.amounts.items()))
    length = {"once": "once", "forever": "forever"}.get(row.duration, f"{row.cycles} cycles")
    on = (
        "the invoice" if row.scope == "invoice" else f"{row.scope.replace('_', ' ')} {', '.join(row.targets)}"
    )
    return f"{off} off {on}, {length}, {row.stacking} (priority {row.priority})"


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


@app.command("list")
def list_cmd(
    ctx: typer.Context, status: str | None = typer.Option(None, "--status", help="active | archived")
) -> None:
    """List coupons by code."""
    with ctx_of(ctx).unit_of_work() as session:
        table = Table("code", "name", "terms", "status", "valid from", "valid to", "max")
        for row in promotions.list_coupons(session, status=status):
            table.add_row(
                row.code,
                row.name,
                _terms(row),
                row.status,
                row.valid_from.isoformat() if row.valid_from else "",
                row.valid_until.isoformat() if row.valid_until else "",
                str(row.max_redemptions or "∞"),
            )
        console.print(table)


@app.command("show")
def show_cmd(ctx: typer.Context, code: str) -> None:
    """Show a coupon: terms, eligibility, promo codes."""
    with ctx_of(ctx).unit_of_work() as session:
        row = promotions.get_coupon(session, code)
        console.print(f"[bold]{row.code}[/] {row.name} · {row.status} · created {row.created_at.isoformat()}")
        console.print(f"  {_terms(row)}")
        rules = [
            "new customers only" if row.new_customers_only else "",
            f"segments {', '.join(row.segments)}" if row.segments else "",
            f"countries {', '.join(row.countries)}" if row.countries else "",
        ]
        console.print(f"  eligibility: {'; '.join(r for r in rules if r) or 'anyone'}")
        window = f"{row.valid_from.isoformat() if row.valid_from else '…'} → "
        window += row.valid_until.isoformat() if row.valid_until else "…"
        console.print(f"  valid {window}")
        console.print(
            f"  max {row.max_redemptions or '∞'} in total, {row.max_per_account or '∞'} per account"
        )
        for promo in promotions.promo_codes_of(session, row.code):
            console.print(f"  promo code {promo.code} (max uses {promo.max_uses or '∞'}, {promo.status})")


@app.command("add-code")
def add_code_cmd(
    ctx: typer.Context,
    coupon: str,
    code: str,
    max_uses: int | None = typer.Option(None, "--max-uses"),
) -> None:
    """Add a public promo code to a coupon."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        promotions.add_promo_code(session, cli.clock(session), coupon, code, max_uses=max_uses)
    console.print(f"[green]promo code {code} redeems {coupon}[/]")


@app.command("archive")
def archive_cmd(ctx: typer.Context, code: str) -> None:
    """Stop new redemptions; running ones continue."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        promotions.archive_coupon(session, cli.clock(session), code)
    console.print(f"coupon {code} archived")


def _account_id(session: Any, ref: str) -> int:
    return get_account(session, int(ref)).id if ref.isdigit() else get_account_by_number(session, ref).id


@app.command("redeem")
def redeem_cmd(
    ctx: typer.Context,
    code: str,
    account: str = typer.Option(..., "--account", help="Billing account number (ACC-...) or id."),
) -> None:
    """Redeem a coupon or promo code for an account (refusals list every reason)."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        redemption = promotions.redeem(session, cli.clock(session), _account_id(session, account), code)
    console.print(f"[green]redemption {redemption.id}[/]: {redemption.coupon_code} for account {account}")


@app.command("redemptions")
def redemptions_cmd(ctx: typer.Context, account: str = typer.Option(..., "--account")) -> None:
    """An account's redemptions."""
    with ctx_of(ctx).unit_of_work() as session:
        table = Table("id", "coupon", "promo code", "redeemed", "first cycle", "cycles", "status")
        for r in promotions.redemptions_of(session, _account_id(session, account)):
            table.add_row(
                str(r.id),
                r.coupon_code,
                r.promo_code or "",
                r.redeemed_at.isoformat(),
                str(r.first_cycle or ""),
                str(r.cycles_applied),
                r.status,
            )
        console.print(table)


@app.command("revoke")
def revoke_cmd(ctx: typer.Context, redemption_id: int, reason: str = typer.Option(..., "--reason")) -> None:
    """Revoke a running redemption (it still counts towards the coupon's limits)."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        promotions.revoke_redemption(session, cli.clock(session), redemption_id, reason)
    console.print(f"redemption {redemption_id} revoked")


@app.command("report")
def report_cmd(
    ctx: typer.Context,
    code: str | None = typer.Argument(None, help="One coupon; default: all."),
    start: str | None = typer.Option(None, "--from", help="Redemptions from (ISO date)."),
    end: str | None = typer.Option(None, "--to", help="Redemptions before (ISO date, exclusive)."),
    by: str = typer.Option("month", "--by", help="week | month"),
    retention_days: int = typer.Option(90, "--retention-days"),
) -> None:
    """Promotion effectiveness: redemptions over time, discount granted, revenue, retention."""
    cli = ctx_of(ctx)
    if by not in ("week", "month"):
        raise ValidationFailed(f"--by is week or month, not {by!r}")
    with cli.unit_of_work() as session:
        data = load_effectiveness_data(
            session,
            code=code,
            start=_instant(cli, start),
            end=_instant(cli, end),
            invoices=InvoiceStoreRevenue() if promotions.has_invoice_store(session) else None,
        )
        rows = coupon_effectiveness(
            data,
            as_of=cli.clock(session).now(),
            granularity=by,
            retention_days=retention_days,  # type: ignore[arg-type]
        )
    table = Table(
        "coupon", "redemptions", f"per {by}", "discount granted", "revenue", "retained", "comparable"
    )
    for row in rows:
        table.add_row(
            row.code,
            str(row.redemptions),
            ", ".join(f"{d.isoformat()}: {n}" for d, n in row.over_time),
            _money(row.discount_granted),
            "n/a" if row.revenue is None else _money(row.revenue),
            _share(row.retention),
            _share(row.comparable),
        )
    console.print(table)
    console.print(f"retention: share with a running subscription {retention_days} days after redeeming")


def _money(totals: Any) -> str:
    return ", ".join(f"{v} {c}" for c, v in totals.items()) or "0"


def _share(retention: Any) -> str:
    share = retention.share
    if share is None:
        return "–"
    return f"{(share * 100).quantize(Decimal('0.1'))} % ({retention.retained}/{retention.measured})"
