"""/v1/api-keys over HTTP, and authentication of every request."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.e2e.conftest import Api, Caller, assert_problem

from billstream.access.models import ApiKey

NOW = "2026-01-15T09:00:00Z"


@pytest.fixture
def acme(api: Api) -> Caller:
    return api.tenant(currency="GBP")


def test_a_created_key_shows_its_token_once_and_it_works(api: Api, acme: Caller) -> None:
    # given a tenant's key
    # when it creates another key
    created = api.created(acme, "/v1/api-keys", {"name": "  CRM sync  "})

    # then the new key is returned with its token, and the token authenticates
    token = created.pop("token")
    assert created == {
        "id": created["id"],
        "tenant_id": acme.tenant_id,
        "name": "CRM sync",
        "include_descendants": False,
        "created_at": NOW,
        "revoked_at": None,
    }
    assert token.startswith(f"bsk_{created['id']}_")
    crm = Caller(tenant_id=acme.tenant_id, key_id=created["id"], token=token)
    assert api.ok(crm, f"/v1/tenants/{acme.tenant_id}")["id"] == acme.tenant_id


def test_the_list_never_shows_a_token_or_its_hash(api: Api, acme: Caller) -> None:
    # given a second key
    created = api.created(acme, "/v1/api-keys", {"name": "CRM sync"})
    secret_hash = api.session.scalar(select(ApiKey.secret_hash).where(ApiKey.id == created["id"]))
    assert secret_hash

    # when the keys are listed
    response = api.get(acme, "/v1/api-keys")

    # then both are listed with their public fields only
    assert response.status_code == 200, response.text
    listed = response.json()
    assert sorted(k["id"] for k in listed["data"]) == sorted([acme.key_id, created["id"]])
    assert {frozenset(k) for k in listed["data"]} == {
        frozenset({"id", "tenant_id", "name", "include_descendants", "created_at", "revoked_at"})
    }
    assert created["token"] not in response.text
    assert created["token"].rsplit("_", 1)[1] not in response.text
    assert secret_hash not in response.text
    assert acme.token not in response.text


def test_a_revoked_key_is_refused_at_once(api: Api, acme: Caller) -> None:
    # given a second key that works
    created = api.created(acme, "/v1/api-keys", {"name": "temporary"})
    temporary = Caller(tenant_id=acme.tenant_id, key_id=created["id"], token=created["token"])
    assert api.get(temporary, "/v1/api-keys").status_code == 200
    api.clock.set(api.clock.now().replace(hour=12))

    # when it is revoked
    revoked = api.post(acme, f"/v1/api-keys/{created['id']}/revoke", None)

    # then it shows when, and its token gets 401 from then on
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] == "2026-01-15T12:00:00Z"
    body = assert_problem(
        api.get(temporary, "/v1/api-keys"), status=401, code="unauthenticated", field=None
    )
    assert body["detail"] == "this API key was revoked"
    # and revoking again changes nothing
    again = api.post(acme, f"/v1/api-keys/{created['id']}/revoke", None)
    assert again.json() == revoked.json()


def test_a_key_cannot_grant_descendants_it_does_not_hold(api: Api) -> None:
    # given a key without descendants
    acme = api.tenant(currency="GBP", descendants=False)
    before = api.count("api_keys")

    # when it creates a key with descendants
    response = api.post(acme, "/v1/api-keys", {"name": "wider", "include_descendants": True})

    # then it is refused and nothing is written
    assert_problem(response, status=422, code="invalid_input", field="include_descendants")
    assert api.count("api_keys") == before


def test_a_group_key_makes_a_key_for_its_brand(api: Api, acme: Caller) -> None:
    # given a brand of the tenant
    brand = api.created(
        acme, "/v1/tenants", {"parent_id": acme.tenant_id, "slug": "b", "name": "B"}
    )

    # when the group key creates a key for the brand
    created = api.created(acme, "/v1/api-keys", {"name": "brand", "tenant_id": brand["id"]})

    # then the brand key sees the brand only
    brand_key = Caller(tenant_id=brand["id"], key_id=created["id"], token=created["token"])
    assert [t["id"] for t in api.ok(brand_key, "/v1/tenants")["data"]] == [brand["id"]]


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (None, "send an API key as `Authorization: Bearer <key>`"),
        ("Basic dXNlcjpwYXNz", "send an API key as `Authorization: Bearer <key>`"),
        ("Bearer", "send an API key as `Authorization: Bearer <key>`"),
        ("Bearer    ", "send an API key as `Authorization: Bearer <key>`"),
        ("Bearer not-a-key", "unknown API key"),
        ("Bearer bsk_key_00000000000000000000000000000000_secret", "unknown API key"),
    ],
)
def test_requests_without_a_valid_key_get_401(
    api: Api, acme: Caller, authorization: str | None, detail: str
) -> None:
    # given a request with a missing, malformed or unknown key
    headers = {"Authorization": authorization} if authorization is not None else {}
    before = api.count("accounts")

    # when it reads or writes
    reads = api.call(None, "GET", "/v1/accounts", headers=headers)
    writes = api.call(None, "POST", "/v1/accounts", json={"name": "X"}, headers=headers)

    # then both are 401 problems and nothing is written
    for response in (reads, writes):
        body = assert_problem(response, status=401, code="unauthenticated", field=None)
        assert body["detail"] == detail
    assert api.count("accounts") == before


def test_a_known_key_id_with_a_wrong_secret_gets_401(api: Api, acme: Caller) -> None:
    # given a real key id with a secret that is not its own
    forged = Caller(tenant_id=acme.tenant_id, key_id=acme.key_id, token=f"bsk_{acme.key_id}_x")

    # when it is used
    response = api.get(forged, "/v1/accounts")

    # then it is unknown
    body = assert_problem(response, status=401, code="unauthenticated", field=None)
    assert body["detail"] == "unknown API key"
