"""TMF635 at the HTTP edge: post usage (one or a batch), upload a file, list and read usage."""

from __future__ import annotations

import gzip

import pytest

from telbill.mediation import service

from ..api.tmf_schema import tmf_errors
from .conftest import HEADER, PLAN_CHANGE, T0, directory

SWAGGER = "TMF635-UsageManagement-v4.0.0.swagger.json"
BASE = "/tmf-api/usageManagement/v4"


@pytest.fixture(autouse=True)
def known_subscribers(monkeypatch):
    """Guiding reads service ids from subscriptions; here a fixed directory stands in for it."""
    table = directory(
        ("msisdn", "33612345678", T0, PLAN_CHANGE, 1, 100),
        ("msisdn", "33612345678", PLAN_CHANGE, None, 2, 100),
    )
    monkeypatch.setattr(service, "load_intervals", lambda session: table)


def _auth(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def _usage(uid: str, when: str = "2026-01-10T10:00:00+01:00", msisdn: str = "0612345678", **chars) -> dict:
    values = {"duration": 60, "otherParty": "0142685300", "servedMsisdn": msisdn} | chars
    return {
        "id": uid,
        "usageDate": when,
        "usageType": "voice",
        "usageCharacteristic": [{"name": k, "value": v} for k, v in values.items() if v is not None],
    }


def test_a_batch_answers_per_record_and_is_stored_once(api_env, client):
    batch = [
        _usage("u1"),
        _usage("u2", msisdn="0699999999"),
        _usage("u1"),
        _usage("u3", duration=-5),
    ]
    got = client.post(f"{BASE}/usage", json=batch, headers=_auth(api_env["writer"]))
    assert got.status_code == 201, got.text
    body = got.json()
    assert [(r["id"], r["result"], r.get("reason")) for r in body["results"]] == [
        ("u1", "accepted", None),
        ("u2", "suspended", "UNKNOWN_SUBSCRIBER"),
        ("u1", "duplicate", "DUPLICATE"),
        ("u3", "suspended", "NEGATIVE_DURATION"),
    ]
    t = body["totals"]
    assert (t["recordsIn"], t["accepted"], t["suspended"], t["duplicates"]) == (4, 1, 2, 1)
    usage = client.get(body["results"][0]["href"], headers=_auth(api_env["reader"]))
    assert usage.status_code == 200
    assert tmf_errors(usage.json(), SWAGGER, "Usage") == []
    again = client.post(f"{BASE}/usage", json=_usage("u1"), headers=_auth(api_env["writer"]))
    assert again.status_code == 200
    assert [r["result"] for r in again.json()["results"]] == ["duplicate"]


def test_idempotency_key_replays_the_first_answer(api_env, client):
    headers = _auth(api_env["writer"], key="batch-7")
    first = client.post(f"{BASE}/usage", json=[_usage("k1")], headers=headers)
    second = client.post(f"{BASE}/usage", json=[_usage("k1")], headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json() == first.json()
    listed = client.get(f"{BASE}/usage", headers=_auth(api_env["reader"]))
    assert listed.headers["X-Total-Count"] == "1"


def test_guiding_at_the_plan_change_and_related_party_as_subscriber(api_env, client):
    at = _usage("p1", when=PLAN_CHANGE.isoformat(), msisdn=None)
    at["relatedParty"] = [{"id": "+33612345678", "role": "subscriber", "@referredType": "Individual"}]
    before = _usage("p0", when="2026-01-15T11:59:59.999999+00:00")
    got = client.post(f"{BASE}/usage", json=[at, before], headers=_auth(api_env["writer"]))
    assert [r["result"] for r in got.json()["results"]] == ["accepted", "accepted"]
    rows = client.get(f"{BASE}/usage", headers=_auth(api_env["reader"])).json()
    chars = {u["id"]: {c["name"]: c["value"] for c in u["usageCharacteristic"]} for u in rows}
    assert sorted(c["recordId"] for c in chars.values()) == ["p0", "p1"]


def test_list_filters_pages_and_fields(api_env, client):
    batch = [_usage(f"l{i}", when=f"2026-01-1{i}T10:00:00+00:00") for i in range(5)]
    batch.append(
        {
            "id": "d1",
            "usageDate": "2026-01-12T10:00:00Z",
            "usageType": "data",
            "usageCharacteristic": [
                {"name": "servedMsisdn", "value": "33612345678"},
                {"name": "volumeUp", "value": 100},
                {"name": "volumeDown", "value": 900},
            ],
        }
    )
    client.post(f"{BASE}/usage", json=batch, headers=_auth(api_env["writer"]))
    reader = _auth(api_env["reader"])
    page = client.get(f"{BASE}/usage", params={"offset": 1, "limit": 2}, headers=reader)
    assert (page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == ("6", "2")
    for item in page.json():
        assert tmf_errors(item, SWAGGER, "Usage") == []
        assert item["status"] == "guided"
    ranged = client.get(
        f"{BASE}/usage",
        params={"usageDate.gte": "2026-01-12T00:00:00Z", "usageDate.lte": "2026-01-13T23:00:00Z"},
        headers=reader,
    )
    assert ranged.headers["X-Total-Count"] == "3"
    data = client.get(f"{BASE}/usage", params={"usageType": "data", "fields": "usageType"}, headers=reader)
    assert [set(u) for u in data.json()] == [{"id", "href", "@type", "usageType"}]
    rated = client.get(f"{BASE}/usage", params={"status": "rated"}, headers=reader)
    assert rated.json() == [] and rated.headers["X-Total-Count"] == "0"
    assert client.get(f"{BASE}/usage", params={"status": "nope"}, headers=reader).status_code == 422
    assert client.get(f"{BASE}/usage/999999", headers=reader).status_code == 404


def test_malformed_bodies_are_refused_with_every_problem(api_env, client):
    bad = [{"id": "x", "usageCharacteristic": [{"name": "duration"}]}, 7]
    got = client.post(f"{BASE}/usage", json=bad, headers=_auth(api_env["writer"]))
    assert got.status_code == 422
    assert "usageCharacteristic 0 needs a name and a value" in got.text
    assert client.post(f"{BASE}/usage", json=[], headers=_auth(api_env["reader"])).status_code == 403


def test_upload_a_gzip_file_returns_its_control_totals_once(api_env, client):
    lines = [
        HEADER,
        "f1,voice,0612345678,,0142685300,2026-01-10 10:00:00,60,,,,,,",
        "f2,voice,0612345678,,0142685300,2026-01-10 11:00:00,-1,,,,,,",
        "broken",
    ]
    content = gzip.compress(("\n".join(lines) + "\n").encode())
    url = f"{BASE}/usageFile"
    first = client.post(url, params={"name": "day.csv.gz"}, content=content, headers=_auth(api_env["writer"]))
    assert first.status_code == 201, first.text
    t = first.json()["totals"]
    assert (t["recordsIn"], t["accepted"], t["suspended"]) == (3, 1, 2)
    again = client.post(
        url, params={"source": "telbill-csv"}, content=content, headers=_auth(api_env["writer"])
    )
    assert (again.status_code, again.json()["status"]) == (200, "skipped")
    empty = client.post(url, params={"name": "x.csv"}, content=b"\n", headers=_auth(api_env["writer"]))
    assert (empty.status_code, empty.json()["reason"]) == (422, "EMPTY_FILE")
