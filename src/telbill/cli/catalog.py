"""`telbill catalog ...`: validate, load, show and export the product catalog."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import typer
from rich.table import Table

from telbill.catalog import (
    LoadReport,
    Offer,
    dump_catalog_yaml,
    export_catalog,
    get_offer,
    list_offers,
    load_catalog,
    parse_catalog_file,
)
from telbill.catalog.charges import (
    FixedTermPhase,
    MinimumCommitment,
    OneTimeCharge,
    RecurringCharge,
    TrialPhase,
    UsageCharge,
)
from telbill.catalog.offers import OfferVersion
from telbill.catalog.types import Period
from telbill.catalog.versions import version_for_new_subscription
from telbill.cli.context import console, ctx_of
from telbill.core.errors import NotFound

app = typer.Typer(help="Product catalog: offers, versions, prices.", no_args_is_help=True)


@app.command("validate")
def validate_cmd(file: Path = typer.Argument(..., help="Catalog YAML file.")) -> None:
    """Check a catalog file (no database); every problem is listed with its line."""
    doc = parse_catalog_file(file)
    versions = sum(len(o.versions) for o in doc.offers)
    tariffs = len(doc.tariff_codes())
    console.print(
        f"[green]valid[/] {file}: {len(doc.products)} products, {len(doc.offers)} offers, "
        f"{versions} versions, {tariffs} tariffs"
    )


@app.command("load")
def load_cmd(ctx: typer.Context, file: Path = typer.Argument(..., help="Catalog YAML file.")) -> None:
    """Load a catalog file; loading it again changes nothing. Published versions cannot change."""
    from telbill.rating.prefix_files import inline_prefix_files

    doc = inline_prefix_files(parse_catalog_file(file), file.parent)
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        report = load_catalog(session, cli.clock(session), doc, source=str(file))
    _print_report(report)


def _print_report(report: LoadReport) -> None:
    table = Table(title=f"catalog load: {report.source}")
    table.add_column("")
    table.add_column("added", justify="right")
    table.add_column("updated", justify="right")
    table.add_column("unchanged", justify="right")
    table.add_row(
        "products",
        str(len(report.products_added)),
        str(len(report.products_updated)),
        str(len(report.products_unchanged)),
    )
    table.add_row(
        "offers",
        str(len(report.offers_added)),
        str(len(report.offers_updated)),
        str(len(report.offers_unchanged)),
    )
    table.add_row("versions", str(len(report.versions_added)), "-", str(report.versions_unchanged))
    console.print(table)
    for code, number in report.versions_added:
        console.print(f"  + {code} v{number}")
    if report.rating_version_added:
        console.print(f"  + rating section v{report.rating_version_added}")
    if not report.changed:
        console.print("[green]nothing to do[/]: the catalog is already loaded")


@app.command("show")
def show_cmd(
    ctx: typer.Context, offer_code: str | None = typer.Argument(None, help="Show one offer in detail.")
) -> None:
    """List offers with their current version and prices, or show one offer in detail."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        now = cli.clock(session).now()
        if offer_code:
            _show_offer(get_offer(session, offer_code), now)
            return
        offers = list_offers(session)
    table = Table(title="offers")
    for column in ("code", "name", "kind", "version", "effective from", "recurring prices"):
        table.add_column(column)
    for offer in offers:
        number, version = _current(offer, now)
        table.add_row(
            offer.code,
            offer.name,
            offer.kind.value,
            str(number) if number else "-",
            version.effective_from.strftime("%Y-%m-%d %H:%M UTC") if version else "-",
            _recurring(version) if version else "not yet available",
        )
    console.print(table)


def _current(offer: Offer, now: datetime) -> tuple[int, OfferVersion | None]:
    try:
        number = version_for_new_subscription(offer, now)
    except NotFound:
        return 0, None
    return number, offer.version(number)


def _prices(points: dict[str, Decimal]) -> str:
    return ", ".join(f"{amount} {code}" for code, amount in sorted(points.items()))


def _every(period: Period) -> str:
    unit = period.unit.value
    return f"per {unit[:-1]}" if period.count == 1 else f"per {period.count} {unit}"


def _recurring(version: OfferVersion) -> str:
    parts = [f"{_prices(c.price)} {_every(c.period)}" for c in version.recurring_charges()]
    return "; ".join(parts) or "-"


def _show_offer(offer: Offer, now: datetime) -> None:
    console.print(f"[bold]{offer.code}[/] — {offer.name} ({offer.kind.value})")
    details = offer.products or offer.components
    console.print(f"  {'components' if offer.components else 'products'}: {', '.join(details)}")
    if offer.compatible_with:
        console.print(f"  compatible with: {', '.join(offer.compatible_with)}")
    console.print(f"  policies: {offer.policies()}")
    current, _ = _current(offer, now)
    for number, version in enumerate(offer.versions, start=1):
        mark = " [green](current)[/]" if number == current else ""
        console.print(f"\n[bold]version {number}[/] from {version.effective_from.isoformat()}{mark}")
        console.print(_charges_table(version))
        if version.allowances:
            console.print(_allowances_table(version))
        for phase in version.phases:
            console.print(f"  phase: {_phase(phase)}")
        if version.bundle_price is not None:
            console.print(
                f"  bundle price: {version.bundle_price.model_dump(mode='json', exclude_none=True)}"
            )


def _charges_table(version: OfferVersion) -> Table:
    table = Table(title="charges")
    for column in ("code", "type", "what", "price"):
        table.add_column(column)
    for charge in version.charges:
        if isinstance(charge, RecurringCharge):
            what = f"{_every(charge.period)}, {charge.timing.value}"
            table.add_row(charge.code, "recurring", what, _prices(charge.price))
        elif isinstance(charge, OneTimeCharge):
            table.add_row(charge.code, "one_time", charge.kind.value, _prices(charge.price))
        elif isinstance(charge, MinimumCommitment):
            table.add_row(charge.code, "minimum", f"true-up: {charge.true_up}", _prices(charge.amount))
        elif isinstance(charge, UsageCharge):
            table.add_row(
                charge.code, "usage", f"{charge.usage_type.value} per {charge.unit.value}", _usage(charge)
            )
    return table


def _usage(charge: UsageCharge) -> str:
    if charge.tariff is not None or charge.pricing is None:
        return f"tariff {charge.tariff}"
    pricing = charge.pricing
    tiers = getattr(pricing, "tiers", None)
    if tiers:
        lines = [
            f"[{t.from_}, {'∞' if t.up_to is None else t.up_to}): {_prices(t.unit_price)}" for t in tiers
        ]
        return f"{pricing.model}\n" + "\n".join(lines)
    body = pricing.model_dump(mode="json", exclude={"model"}, exclude_none=True)
    return f"{pricing.model}: {body}"


def _allowances_table(version: OfferVersion) -> Table:
    table = Table(title="allowances")
    for column in ("code", "usage", "quantity", "shared", "rollover", "scope"):
        table.add_column(column)
    for a in version.allowances:
        quantity = "unlimited" if a.unlimited else f"{a.quantity} {a.unit.value if a.unit else ''}"
        rollover = (
            "-" if a.rollover is None else f"max {a.rollover.max_quantity}, {a.rollover.max_cycles} cycle(s)"
        )
        table.add_row(
            a.code, a.usage_type.value, quantity, a.shared.value, rollover, ", ".join(a.scope) or "all"
        )
    return table


def _phase(phase: object) -> str:
    if isinstance(phase, TrialPhase):
        price = _prices(phase.price) if phase.price else "free"
        return f"trial {phase.duration.count} {phase.duration.unit.value} ({price})"
    if isinstance(phase, FixedTermPhase):
        fee = "none" if phase.early_termination is None else phase.early_termination.kind
        return f"fixed term {phase.duration.count} {phase.duration.unit.value}, early termination: {fee}"
    return "evergreen"


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Write the stored catalog as YAML; loading that file back changes nothing."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        text = dump_catalog_yaml(export_catalog(session))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"[green]exported[/] to {output}")
