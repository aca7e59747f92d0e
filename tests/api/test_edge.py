"""Authentication, TMF error shape and Idempotency-Key replays at the API edge."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import func, select

from telbill.api import PrincipalDep, json_body, perform_write
from telbill.core.errors import ValidationFailed
from telbill.db.engine import make_sessionmaker
from telbill.events import append_event
from telbill.events.model import OutboxEvent

probe = APIRouter()


@probe.post("/probe")
async def write_probe(request: Request, principal: PrincipalDep):
    body = json_body(await request.body())

    def handler(session, clock):
        if body.get("bad"):
            raise ValidationFailed("bad probe", details=["bad: must be false"])
        event = append_event(
            session,
            clock,
            event_type="Probe.written",
            aggregate_type="probe",
            aggregate_id=body["n"],
            payload=body,
        )
        session.flush()
        return 201, {"id": event.id, "n": body["n"]}

    return await perform_write(request, principal, handler)


def _events(engine) -> int:
    with make_sessionmaker(engine)() as s:
        return s.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.event_type == "Probe.written")
        )


def _auth(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def test_health_needs_no_key(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_missing_malformed_and_unknown_keys_are_401_in_tmf_shape(api_env, client):
    api_env["app"].include_router(probe)
    r = client.post("/probe", json={"n": 1})
    assert r.status_code == 401
    assert r.json() == {
        "code": "unauthorised",
        "reason": r.json()["reason"],
        "message": r.json()["message"],
        "status": "401",
    }
    assert client.post("/probe", json={"n": 1}, headers=_auth("nonsense")).status_code == 401
    forged = api_env["writer"][:-3] + "xyz"
    assert client.post("/probe", json={"n": 1}, headers=_auth(forged)).status_code == 401
    assert _events(api_env["engine"]) == 0


def test_read_only_key_cannot_write(api_env, client):
    api_env["app"].include_router(probe)
    r = client.post("/probe", json={"n": 1}, headers=_auth(api_env["reader"]))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert _events(api_env["engine"]) == 0


def test_replay_returns_the_first_response_and_writes_once(api_env, client):
    api_env["app"].include_router(probe)
    first = client.post("/probe", json={"n": 7}, headers=_auth(api_env["writer"], "k-1"))
    again = client.post("/probe", json={"n": 7}, headers=_auth(api_env["writer"], "k-1"))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _events(api_env["engine"]) == 1
    other = client.post("/probe", json={"n": 7}, headers=_auth(api_env["writer"], "k-2"))
    assert other.json()["id"] != first.json()["id"]
    assert _events(api_env["engine"]) == 2


def test_same_key_with_another_body_is_a_conflict(api_env, client):
    api_env["app"].include_router(probe)
    client.post("/probe", json={"n": 1}, headers=_auth(api_env["writer"], "k"))
    r = client.post("/probe", json={"n": 2}, headers=_auth(api_env["writer"], "k"))
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert _events(api_env["engine"]) == 1


def test_a_failed_write_changes_nothing_and_is_not_remembered(api_env, client):
    api_env["app"].include_router(probe)
    r = client.post("/probe", json={"n": 1, "bad": True}, headers=_auth(api_env["writer"], "k"))
    assert r.status_code == 422
    assert r.json()["code"] == "validation_failed" and "must be false" in r.json()["message"]
    ok = client.post("/probe", json={"n": 1}, headers=_auth(api_env["writer"], "k"))
    assert ok.status_code == 201
    assert _events(api_env["engine"]) == 1


def test_revoked_key_is_refused_at_once(api_env, client):
    from telbill.api.keys import revoke_key
    from telbill.db.engine import session_scope

    api_env["app"].include_router(probe)
    assert client.post("/probe", json={"n": 1}, headers=_auth(api_env["writer"])).status_code == 201
    prefix = api_env["writer"].split("_")[1]
    with session_scope(make_sessionmaker(api_env["engine"])) as s:
        revoke_key(s, api_env["clock"], prefix)
    assert client.post("/probe", json={"n": 2}, headers=_auth(api_env["writer"])).status_code == 401


exact = APIRouter()


@exact.post("/exact")
async def write_exact(request: Request, principal: PrincipalDep):
    from decimal import Decimal

    return await perform_write(request, principal, lambda s, c: (201, {"amount": Decimal("1234.50")}))


def test_amounts_keep_their_digits_fresh_and_replayed(api_env, client):
    api_env["app"].include_router(exact)
    headers = _auth(api_env["writer"], "amount-1")
    first = client.post("/exact", json={}, headers=headers)
    again = client.post("/exact", json={}, headers=headers)
    assert first.content == again.content == b'{"amount":1234.50}'
    assert again.headers["Idempotent-Replayed"] == "true"
