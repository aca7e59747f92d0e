"""Provisioning commands from outbox events, over a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from telbill.core.clock import TestClock
from telbill.events import append_event
from telbill.events.provisioning import (
    HttpProvisioning,
    LoggingProvisioning,
    ProvisioningCommand,
    ProvisioningFailed,
    ServiceIdentifier,
    dispatch_provisioning,
)
from telbill.events.service import events_for

T0 = datetime(2026, 2, 1, tzinfo=UTC)


class Recorder(HTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, dict, dict]] = []
        self.fail_paths: set[str] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/prov"


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, dict(self.headers), body))
        status = 503 if self.path in self.server.fail_paths else 202
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": "network busy"}' if status >= 400 else b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Recorder]:
    srv = Recorder()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _command(action="activate") -> ProvisioningCommand:
    return ProvisioningCommand(
        action=action,
        subscription_id=7,
        account_id=3,
        offer_code="mobile-m",
        effective_at=T0,
        idempotency_key="evt-1",
        service_ids=(ServiceIdentifier("msisdn", "+33612345678"),),
    )


def test_http_adapter_posts_json_with_idempotency_key(server):
    with HttpProvisioning(server.url, headers={"Authorization": "Bearer t"}) as adapter:
        adapter.suspend(_command("suspend"))
    ((path, headers, body),) = server.requests
    assert path == "/prov/suspend"
    assert headers["Idempotency-Key"] == "evt-1"
    assert headers["Authorization"] == "Bearer t"
    assert body == {
        "action": "suspend",
        "subscription_id": 7,
        "account_id": 3,
        "offer_code": "mobile-m",
        "effective_at": "2026-02-01T00:00:00+00:00",
        "idempotency_key": "evt-1",
        "service_ids": [{"type": "msisdn", "value": "+33612345678"}],
    }


def test_http_adapter_raises_a_clear_error_on_non_2xx(server):
    server.fail_paths.add("/prov/activate")
    with HttpProvisioning(server.url) as adapter, pytest.raises(ProvisioningFailed, match="HTTP 503"):
        adapter.activate(_command())


def test_http_adapter_reports_an_unreachable_server():
    with (
        HttpProvisioning("http://127.0.0.1:9/prov", timeout_seconds=1) as adapter,
        pytest.raises(ProvisioningFailed, match="activate for subscription 7 failed"),
    ):
        adapter.activate(_command())


def _event(session, clock, event_type, sub_id, from_state="pending"):
    return append_event(
        session,
        clock,
        event_type=event_type,
        aggregate_type="subscription",
        aggregate_id=sub_id,
        payload={
            "subscription_id": sub_id,
            "account_id": 1,
            "offer_code": "mobile-m",
            "from_state": from_state,
            "effective_at": clock.now(),
            "service_ids": [{"type": "msisdn", "value": f"+3361000000{sub_id}"}],
        },
    )


def test_dispatcher_sends_commands_in_order_and_marks_events(session, server):
    clock = TestClock(T0)
    activated = _event(session, clock, "Subscription.activated", 1)
    _event(session, clock, "Subscription.suspended", 1, "active")
    _event(session, clock, "Subscription.planChanged", 1, "active")  # not a provisioning command
    with HttpProvisioning(server.url) as adapter:
        report = dispatch_provisioning(session, adapter, clock=clock)
        assert (report.sent, report.failed) == (2, [])
        assert [r[0] for r in server.requests] == ["/prov/activate", "/prov/suspend"]
        assert server.requests[0][1]["Idempotency-Key"] == activated.event_id
        assert dispatch_provisioning(session, adapter, clock=clock).sent == 0  # nothing twice
    events = {e.event_type: e for e in events_for(session, "subscription", 1)}
    assert events["Subscription.activated"].dispatched_at == T0
    assert events["Subscription.planChanged"].dispatched_at is None


def test_failed_send_stays_pending_and_holds_back_later_events_of_that_subscription(session, server):
    clock = TestClock(T0)
    _event(session, clock, "Subscription.activated", 1)
    _event(session, clock, "Subscription.suspended", 1, "active")
    _event(session, clock, "Subscription.activated", 2)
    server.fail_paths.add("/prov/activate")
    with HttpProvisioning(server.url) as adapter:
        report = dispatch_provisioning(session, adapter, clock=clock)
    assert report.sent == 0 and len(report.failed) == 2
    assert [r[0] for r in server.requests] == ["/prov/activate", "/prov/activate"]
    first = events_for(session, "subscription", 1)[0]
    assert first.dispatched_at is None and first.attempts == 1
    server.fail_paths.clear()
    with HttpProvisioning(server.url) as adapter:
        assert dispatch_provisioning(session, adapter, clock=clock).sent == 3


def test_trial_conversion_and_cancelling_a_pending_subscription_send_nothing(session):
    clock = TestClock(T0)
    _event(session, clock, "Subscription.activated", 1, "trial")
    _event(session, clock, "Subscription.cancelled", 2, "pending")
    _event(session, clock, "Subscription.cancelled", 3, "active")
    adapter = LoggingProvisioning()
    report = dispatch_provisioning(session, adapter, clock=clock)
    assert (report.sent, report.skipped) == (1, 2)
    assert [(c.action, c.subscription_id) for c in adapter.commands] == [("terminate", 3)]
