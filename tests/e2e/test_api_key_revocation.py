"""Who may revoke which API key over HTTP, and why no request can lock a tenant out.

The rules (docs/api.md, "Who may revoke what"): a key revokes keys of its scope; not a key
with descendants unless it has them itself; itself only while other active keys of its
scope still reach every tenant it reaches. The operator's way back in is the command line
(tests/e2e/test_cli_apikeys.py).
"""

from __future__ import annotations

from tests.e2e.conftest import Api, Caller, assert_problem
from tests.e2e.test_api_siblings import same_answer

UNKNOWN_KEY = "key_0123456789abcdef0123456789abcdef"


def _works(api: Api, caller: Caller) -> bool:
    return bool(api.get(caller, "/v1/api-keys").status_code == 200)


def test_the_last_key_of_a_tenant_cannot_revoke_itself(api: Api) -> None:
    # given a tenant with one key
    acme = api.tenant(currency="GBP", descendants=False)

    # when the key revokes itself
    response = api.post(acme, f"/v1/api-keys/{acme.key_id}/revoke", None)

    # then it is refused naming the key, and the key still works
    body = assert_problem(response, status=409, code="api_key_last_access", field="api_key_id")
    assert acme.tenant_id in body["detail"]
    assert "billstream apikey create" in body["detail"]
    assert _works(api, acme)


def test_a_key_revokes_itself_while_another_reaches_its_tenant(api: Api) -> None:
    # given a tenant with two keys
    acme = api.tenant(currency="GBP", descendants=False)
    spare = api.key(acme.tenant_id)

    # when the first revokes itself
    response = api.post(acme, f"/v1/api-keys/{acme.key_id}/revoke", None)

    # then it is revoked (its token gets 401), and the spare, now the last, cannot follow
    assert response.status_code == 200, response.text
    assert not _works(api, acme)
    last = api.post(spare, f"/v1/api-keys/{spare.key_id}/revoke", None)
    assert_problem(last, status=409, code="api_key_last_access", field="api_key_id")
    assert _works(api, spare)


def test_a_key_revokes_another_of_its_scope_and_stays_the_last(api: Api) -> None:
    # given a tenant with two keys
    acme = api.tenant(currency="GBP", descendants=False)
    spare = api.key(acme.tenant_id)

    # when one revokes the other
    response = api.post(acme, f"/v1/api-keys/{spare.key_id}/revoke", None)

    # then the other is revoked; the caller is the tenant's last key now
    assert response.status_code == 200, response.text
    assert not _works(api, spare)
    itself = api.post(acme, f"/v1/api-keys/{acme.key_id}/revoke", None)
    assert_problem(itself, status=409, code="api_key_last_access", field="api_key_id")


def test_a_key_without_descendants_cannot_revoke_one_with_them(api: Api) -> None:
    # given a group key reaching its brands and a key of the group alone
    group = api.tenant(currency="GBP", descendants=True)
    narrow = api.key(group.tenant_id, descendants=False)

    # when the narrow key revokes the group key
    response = api.post(narrow, f"/v1/api-keys/{group.key_id}/revoke", None)

    # then it is refused (it could not have created one either); the group key works
    assert_problem(response, status=403, code="permission_denied", field="api_key_id")
    assert _works(api, group)
    # and the group key may revoke the narrow one
    assert api.post(group, f"/v1/api-keys/{narrow.key_id}/revoke", None).status_code == 200


def test_a_group_key_is_not_revoked_while_it_alone_reaches_a_brand(api: Api) -> None:
    # given a group key with descendants, a second group key without, and a brand with no key
    group = api.tenant(currency="GBP", descendants=True)
    api.key(group.tenant_id, descendants=False)
    brand = api.created(
        group, "/v1/tenants", {"parent_id": group.tenant_id, "slug": "b", "name": "B"}
    )

    # when the group key revokes itself
    response = api.post(group, f"/v1/api-keys/{group.key_id}/revoke", None)

    # then it is refused naming the brand, which nothing else would reach
    body = assert_problem(response, status=409, code="api_key_last_access", field="api_key_id")
    assert brand["id"] in body["detail"]
    # and once the brand has a key of its own, it may go
    api.created(group, "/v1/api-keys", {"name": "brand", "tenant_id": brand["id"]})
    assert api.post(group, f"/v1/api-keys/{group.key_id}/revoke", None).status_code == 200


def test_a_siblings_key_answers_as_an_unknown_key(api: Api) -> None:
    # given two brands of one parent, each with a key
    parent = api.tenant(currency="GBP", descendants=True)
    north = api.tenant(parent=parent.tenant_id, descendants=False, slug="north", name="N")
    south = api.tenant(parent=parent.tenant_id, descendants=False, slug="south", name="S")

    # when the north brand revokes the south's key, and a key nobody has
    sibling = api.post(north, f"/v1/api-keys/{south.key_id}/revoke", None)
    unknown = api.post(north, f"/v1/api-keys/{UNKNOWN_KEY}/revoke", None)

    # then both are the same 404, and the south's key works
    assert_problem(unknown, status=404, code="not_found", field="api_key_id")
    same_answer(sibling, unknown, sibling_id=south.key_id, unknown_id=UNKNOWN_KEY)
    assert _works(api, south)
