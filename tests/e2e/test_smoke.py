from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from billstream.api.app import create_app
from billstream.bootstrap import Runtime
from billstream.core.clock import FakeClock
from tests.factories import make_api_key, make_tenant


def test_smoke(runtime: Runtime, session: Session, clock: FakeClock) -> None:
    tenant = make_tenant(session, clock, timezone="Europe/London", locale="en_GB")
    key = make_api_key(session, clock, tenant, include_descendants=True)
    session.commit()
    client = TestClient(create_app(runtime))
    h = {"Authorization": f"Bearer {key.token}"}
    r = client.post("/v1/accounts", json={"name": "ABC", "external_id": "crm-1"}, headers=h)
    assert r.status_code == 201, r.text
    acc = r.json()
    r = client.post("/v1/accounts", json={"name": "Sales", "parent_id": acc["id"], "billing_mode": "billed_to_parent"}, headers={**h, "Idempotency-Key": "k1"})
    assert r.status_code == 201, r.text
    r2 = client.post("/v1/accounts", json={"name": "Sales", "parent_id": acc["id"], "billing_mode": "billed_to_parent"}, headers={**h, "Idempotency-Key": "k1"})
    assert r2.json() == r.json()
    r3 = client.post("/v1/accounts", json={"name": "Sales2", "parent_id": acc["id"]}, headers={**h, "Idempotency-Key": "k1"})
    assert r3.status_code == 422, r3.text
    print(r3.json())
    r = client.post(f"/v1/accounts/{acc['id']}/move", json={"parent_id": r.json()["id"]}, headers=h)
    assert r.status_code == 409, r.text
    print(r.json())
    r = client.get(f"/v1/accounts/{acc['id']}/tree", headers=h)
    print(r.json())
    r = client.post("/v1/numbers", json={"numbers": ["+442071234567", "020 7123 4568"]}, headers=h)
    assert r.status_code == 201, r.text
    num = r.json()[0]
    r = client.post(f"/v1/numbers/{num['id']}/assign", json={"account_id": acc["id"], "valid_from": "2026-01-01T00:00:00Z"}, headers=h)
    assert r.status_code == 201, r.text
    r = client.post("/v1/numbers/lookup", json={"queries": [{"number": "+442071234567", "at": "2026-02-01T00:00:00Z"}, {"number": "+442071234567", "at": "2025-02-01T00:00:00Z"}]}, headers=h)
    print(r.json())
    r = client.post("/v1/accounts", content=b"{bad", headers={**h, "content-type": "application/json"})
    print(r.status_code, r.json())
    r = client.get("/v1/accounts?limit=1", headers=h)
    print(r.json()["next_cursor"])
    r = client.get("/v1/tenants", headers=h)
    print(r.json())
