"""Product orders (TMF622 style): validate every item first, then complete all of them or none.

acknowledged → inProgress → completed | failed. A failed order is kept with its reasons; none
of its items leaves a trace (the work runs in a savepoint that is rolled back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.core.errors import NotFound, TelbillError
from telbill.events import append_event
from telbill.subscriptions import identifiers, ports, repository, service
from telbill.subscriptions.creation import create_subscription
from telbill.subscriptions.model import Order, OrderItem
from telbill.subscriptions.schemas import OrderCreate, OrderItemCreate
from telbill.subscriptions.terms import OfferTerms
from telbill.subscriptions.timing import classify


@dataclass
class _Planned:
    """An item once validated: what to do, with everything resolved."""

    item: OrderItemCreate
    at: datetime
    explicit_date: bool
    terms: OfferTerms | None = None
    ids: list[tuple[str, str]] = field(default_factory=list)
    components: list[OfferTerms] = field(default_factory=list)


def get_order(session: Session, order_id: int) -> Order:
    order = repository.get_order(session, order_id)
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    return order


def order_items(session: Session, order_id: int) -> list[OrderItem]:
    return list(repository.items_of(session, get_order(session, order_id).id))


def list_orders(session: Session, **filters: Any) -> list[Order]:
    return list(repository.list_orders(session, **filters))


def place_order(
    session: Session,
    clock: Clock,
    spec: OrderCreate,
    *,
    backdate_limit_days: int = service.BACKDATE_LIMIT_DAYS,
) -> Order:
    """Record the order and complete it, or fail it with every reason found. Never half-applied."""
    problems: list[str] = []
    account = _account(session, spec, problems)
    planned = [
        _plan_item(session, clock, spec, i, item, account, backdate_limit_days, problems)
        for i, item in enumerate(spec.items)
    ]
    if account is not None:
        _check_identifiers(session, planned, problems)
        _check_parents(session, planned, account, problems)
    order = _record(session, clock, spec, account)
    if problems:
        _move(session, clock, order, "failed", problems)
        return order
    _move(session, clock, order, "inProgress")
    try:
        with session.begin_nested():
            _execute(session, clock, order, planned, account, backdate_limit_days)  # type: ignore[arg-type]
    except TelbillError as exc:
        _move(session, clock, order, "failed", [str(exc)])
        return order
    order.completed_at = clock.now()
    _move(session, clock, order, "completed")
    return order


def _account(session: Session, spec: OrderCreate, problems: list[str]) -> ports.AccountView | None:
    try:
        account = ports.account(session, spec.account)
    except NotFound as exc:
        problems.append(exc.message)
        return None
    if account.status != "active":
        problems.append(f"billing account {account.number} is {account.status}")
    return account


def _plan_item(
    session: Session,
    clock: Clock,
    spec: OrderCreate,
    index: int,
    item: OrderItemCreate,
    account: ports.AccountView | None,
    limit_days: int,
    problems: list[str],
) -> _Planned:
    where = f"item {index}"
    requested = item.requested_at or spec.requested_at
    try:
        at, _ = classify(clock.now(), requested, limit_days)
    except TelbillError as exc:
        problems.append(f"{where}: {exc.message}")
        at = clock.now()
    plan = _Planned(item, at, requested is not None)
    try:
        if item.action == "add":
            _plan_add(session, plan, account, where, problems)
        else:
            _plan_existing(session, plan, account, where, problems)
    except TelbillError as exc:
        problems.append(f"{where}: {exc.message}")
    return plan


def _plan_add(
    session: Session, plan: _Planned, account: ports.AccountView | None, where: str, problems: list[str]
) -> None:
    item = plan.item
    if item.offer_code is None:
        problems.append(f"{where}: an `add` item needs an offer_code")
        return
    if item.subscription_id is not None:
        problems.append(f"{where}: an `add` item creates a subscription; do not give subscription_id")
    if not ports.offer_exists(session, item.offer_code):
        problems.append(f"{where}: unknown offer {item.offer_code!r}")
        return
    plan.terms = ports.terms_at(session, item.offer_code, plan.at)
    plan.components = [ports.terms_at(session, code, plan.at) for code in plan.terms.components]
    if account is not None:
        for terms in [plan.terms, *plan.components]:
            try:
                ports.require_currency(terms, account)
            except TelbillError as exc:
                problems.append(f"{where}: {exc.message}")
    for sid in item.service_ids:
        try:
            plan.ids.append((sid.type, identifiers.normalise(sid.type, sid.value)))
        except TelbillError as exc:
            problems.append(f"{where}: {exc.message}")


def _plan_existing(
    session: Session, plan: _Planned, account: ports.AccountView | None, where: str, problems: list[str]
) -> None:
    item = plan.item
    if item.subscription_id is None:
        problems.append(f"{where}: a `{item.action}` item needs the subscription_id it changes")
        return
    sub = service.get_subscription(session, item.subscription_id)
    if account is not None and sub.account_id != account.id:
        problems.append(f"{where}: subscription {sub.id} belongs to another account")
    if sub.state == "cancelled":
        problems.append(f"{where}: subscription {sub.id} is cancelled")
    if item.action == "modify" and item.offer_code is None and item.quantity is None:
        problems.append(f"{where}: a `modify` item changes offer_code and/or quantity")
    if (
        item.action == "modify"
        and item.offer_code is not None
        and not ports.offer_exists(session, item.offer_code)
    ):
        problems.append(f"{where}: unknown offer {item.offer_code!r}")


def _check_identifiers(session: Session, planned: list[_Planned], problems: list[str]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for index, plan in enumerate(planned):
        for pair in plan.ids:
            if pair in seen:
                problems.append(f"item {index}: {pair[0]} {pair[1]} is also in item {seen[pair]}")
            seen.setdefault(pair, index)
        for row in repository.holders_of(session, plan.ids, plan.at):
            problems.append(
                f"item {index}: {row.type} {row.value} is held by subscription {row.subscription_id}"
            )


def _check_parents(
    session: Session, planned: list[_Planned], account: ports.AccountView, problems: list[str]
) -> None:
    for index, plan in enumerate(planned):
        terms, item = plan.terms, plan.item
        if terms is None:
            continue
        has_parent = item.parent_item is not None or item.parent_subscription_id is not None
        if terms.kind != "addon":
            if has_parent:
                problems.append(
                    f"item {index}: only add-ons attach to a plan ({terms.code} is a {terms.kind})"
                )
            continue
        parent_code = _parent_offer(session, planned, item, account, index, problems)
        if parent_code and terms.compatible_with and parent_code not in terms.compatible_with:
            problems.append(f"item {index}: add-on {terms.code} is not compatible with {parent_code}")


def _parent_offer(
    session: Session,
    planned: list[_Planned],
    item: OrderItemCreate,
    account: ports.AccountView,
    index: int,
    problems: list[str],
) -> str | None:
    if item.parent_item is not None:
        if item.parent_item >= len(planned) or planned[item.parent_item].terms is None:
            problems.append(
                f"item {index}: parent_item {item.parent_item} is not an `add` item of this order"
            )
            return None
        return planned[item.parent_item].terms.code  # type: ignore[union-attr]
    if item.parent_subscription_id is None:
        problems.append(f"item {index}: an add-on needs parent_item or parent_subscription_id")
        return None
    parent = repository.get_subscription(session, item.parent_subscription_id)
    if parent is None or parent.account_id != account.id or parent.state == "cancelled":
        problems.append(f"item {index}: subscription {item.parent_subscription_id} cannot take add-ons here")
        return None
    return parent.offer_code


def _record(session: Session, clock: Clock, spec: OrderCreate, account: ports.AccountView | None) -> Order:
    order = repository.add(
        session,
        Order(
            external_id=spec.external_id,
            account_id=account.id if account else None,
            account_ref=str(spec.account),
            state="acknowledged",
            requested_start=spec.requested_at,
            failure_reasons=[],
            created_at=clock.now(),
        ),
    )
    for position, item in enumerate(spec.items):
        session.add(
            OrderItem(
                order_id=order.id,
                position=position,
                action=item.action,
                offer_code=item.offer_code,
                quantity=item.quantity,
                service_ids=[s.model_dump() for s in item.service_ids],
                requested_at=item.requested_at,
                subscription_id=item.subscription_id,
            )
        )
    session.flush()
    return order


def _move(session: Session, clock: Clock, order: Order, state: str, reasons: list[str] | None = None) -> None:
    before, order.state = order.state, state
    if reasons:
        order.failure_reasons = list(reasons)
    append_event(
        session,
        clock,
        event_type="ProductOrder.stateChanged",
        aggregate_type="productOrder",
        aggregate_id=order.id,
        payload={
            "order_id": order.id,
            "account_id": order.account_id,
            "state": state,
            "from_state": before,
            "external_id": order.external_id,
            "reasons": list(reasons or []),
        },
    )
    session.flush()


def _execute(
    session: Session,
    clock: Clock,
    order: Order,
    planned: list[_Planned],
    account: ports.AccountView,
    limit_days: int,
) -> None:
    items = repository.items_of(session, order.id)
    created: dict[int, int] = {}
    for index, (plan, row) in enumerate(zip(planned, items, strict=True)):
        item, sub_id = plan.item, plan.item.subscription_id
        at = plan.at if plan.explicit_date else None
        if item.action == "add":
            parent = (
                created.get(item.parent_item) if item.parent_item is not None else item.parent_subscription_id
            )
            created[index] = row.subscription_id = _add(session, clock, order, plan, account, parent)
        elif item.action == "modify":
            assert sub_id is not None
            if item.offer_code is not None:
                service.change_plan(
                    session, clock, sub_id, item.offer_code, at=at, backdate_limit_days=limit_days
                )
            if item.quantity is not None:
                service.change_quantity(
                    session, clock, sub_id, item.quantity, at=at, backdate_limit_days=limit_days
                )
        else:
            assert sub_id is not None
            reason = f"order {order.id}"
            service.cancel(session, clock, sub_id, at=at, reason=reason, backdate_limit_days=limit_days)
    session.flush()


def _add(
    session: Session,
    clock: Clock,
    order: Order,
    plan: _Planned,
    account: ports.AccountView,
    parent: int | None,
) -> int:
    """The new subscription (and, for a bundle, one child per component offer)."""
    assert plan.terms is not None
    common = {"account": account, "start_at": plan.at, "order_id": order.id}
    quantity = plan.item.quantity or 1
    sub = create_subscription(
        session, clock, terms=plan.terms, quantity=quantity, service_ids=plan.ids, parent_id=parent, **common
    )
    for component in plan.components:
        create_subscription(session, clock, terms=component, parent_id=sub.id, **common)
    return sub.id
