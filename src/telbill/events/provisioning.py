"""Provisioning adapters: tell the network to activate, suspend, resume or terminate a service.

Commands are derived from the subscription events in the outbox, so provisioning follows the
committed state and nothing else. Delivery is at-least-once: the outbox event id is the
idempotency key, so the network side can drop replays.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import httpx
from sqlalchemy.orm import Session

from telbill.core.clock import Clock, SystemClock
from telbill.core.errors import TelbillError
from telbill.events import repository
from telbill.events.model import OutboxEvent

log = logging.getLogger(__name__)

Action = Literal["activate", "suspend", "resume", "terminate"]
SUBSCRIPTION_AGGREGATE = "subscription"
_ACTION_OF_EVENT: dict[str, Action] = {
    "Subscription.activated": "activate",
    "Subscription.suspended": "suspend",
    "Subscription.resumed": "resume",
    "Subscription.cancelled": "terminate",
}

_NOTHING_TO_DO = {("activate", "trial"), ("terminate", "pending")}


class ProvisioningFailed(TelbillError):
    code = "provisioning_failed"
    http_status = 502


@dataclass(frozen=True)
class ServiceIdentifier:
    type: str  # msisdn | imsi | iccid | line_id
    value: str


@dataclass(frozen=True)
class ProvisioningCommand:
    action: Action
    subscription_id: int
    account_id: int
    offer_code: str
    effective_at: datetime
    idempotency_key: str
    service_ids: tuple[ServiceIdentifier, ...] = ()

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["effective_at"] = self.effective_at.isoformat()
        body["service_ids"] = [asdict(s) for s in self.service_ids]
        return body


@runtime_checkable
class ProvisioningAdapter(Protocol):
    def activate(self, command: ProvisioningCommand) -> None: ...
    def suspend(self, command: ProvisioningCommand) -> None: ...
    def resume(self, command: ProvisioningCommand) -> None: ...
    def terminate(self, command: ProvisioningCommand) -> None: ...


def send(adapter: ProvisioningAdapter, command: ProvisioningCommand) -> None:
    """Call the adapter method named by the command's action."""
    getattr(adapter, command.action)(command)


@dataclass
class LoggingProvisioning:
    """The default adapter: keeps the commands in memory and logs them (no network here)."""

    commands: list[ProvisioningCommand] = field(default_factory=list)

    def _record(self, command: ProvisioningCommand) -> None:
        self.commands.append(command)
        log.info("provisioning %s subscription %s", command.action, command.subscription_id)

    activate = suspend = resume = terminate = _record


class HttpProvisioning:
    """POSTs each command as JSON to `{base_url}/{action}` with an Idempotency-Key header."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: int = 10,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_seconds),
            headers=dict(headers or {}),
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpProvisioning:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, command: ProvisioningCommand) -> None:
        url = f"/{command.action}"
        try:
            response = self._client.post(
                url, json=command.to_json(), headers={"Idempotency-Key": command.idempotency_key}
            )
        except httpx.HTTPError as exc:
            raise ProvisioningFailed(
                f"provisioning {command.action} for subscription {command.subscription_id} failed: {exc}"
            ) from exc
        if not response.is_success:
            raise ProvisioningFailed(
                f"provisioning {command.action} for subscription {command.subscription_id} "
                f"answered HTTP {response.status_code}",
                details=[response.text[:300]] if response.text else [],
            )

    activate = suspend = resume = terminate = _post


def command_for(event: OutboxEvent) -> ProvisioningCommand | None:
    """The command an outbox event asks for, or None when the network has nothing to do.

    A trial that turns into a paid subscription is already live; a pending subscription that
    is cancelled was never provisioned.
    """
    action = _ACTION_OF_EVENT.get(event.event_type)
    payload = event.payload
    if action is None or (action, payload.get("from_state")) in _NOTHING_TO_DO:
        return None
    return ProvisioningCommand(
        action=action,
        subscription_id=int(payload["subscription_id"]),
        account_id=int(payload["account_id"]),
        offer_code=str(payload["offer_code"]),
        effective_at=datetime.fromisoformat(payload.get("effective_at") or event.occurred_at.isoformat()),
        idempotency_key=event.event_id,
        service_ids=tuple(ServiceIdentifier(s["type"], s["value"]) for s in payload.get("service_ids", [])),
    )


@dataclass
class DispatchReport:
    sent: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


def dispatch_provisioning(
    session: Session, adapter: ProvisioningAdapter, limit: int = 100, *, clock: Clock | None = None
) -> DispatchReport:
    """Send the commands of pending subscription events, oldest first, and mark them dispatched.

    A failed send leaves its event pending (attempts + 1) and holds back the later events of the
    same subscription, so a suspend never overtakes the activate it follows.
    """
    clock = clock or SystemClock()
    events = repository.pending_of(
        session,
        SUBSCRIPTION_AGGREGATE,
        list(_ACTION_OF_EVENT),
        limit,
        skip_locked=session.get_bind().dialect.name == "postgresql",
    )
    report = DispatchReport()
    blocked: set[str] = set()
    for event in events:
        if event.aggregate_id in blocked:
            continue
        command = command_for(event)
        try:
            if command is not None:
                send(adapter, command)
        except ProvisioningFailed as exc:
            event.attempts += 1
            blocked.add(event.aggregate_id)
            report.failed.append(f"{event.event_id}: {exc.message}")
            continue
        event.dispatched_at = clock.now()
        if command is None:
            report.skipped += 1
        else:
            report.sent += 1
    session.flush()
    return report
