"""/v1/accounts over HTTP: create, read, list and page, change, delete, the tree, moves."""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.conftest import Api, Caller, assert_problem

NOW = "2026-01-15T09:00:00Z"
BILLED = "billed_to_parent"


@pytest.fixture
def uk(api: Api) -> Caller:
    return api.tenant(currency="GBP", timezone="Europe/London", locale="en_GB")


def _create(api: Api, caller: Caller, name: str, **fields: Any) -> dict[str, Any]:
    return api.created(caller, "/v1/accounts", {"name": name, **fields})  # type: ignore[no-any-return]


def _org_abc(api: Api, caller: Caller) -> dict[str, str]:
    """SPEC C2: ABC pays; Sales, Support, HR under it; Tier1, Tier2 under Support; Support pays."""
    ids = {"ABC": _create(api, caller, "ABC", type="customer")["id"]}
    for name, parent, mode in [
        ("Sales", "ABC", BILLED),
        ("Support", "ABC", "self_paying"),
        ("HR", "ABC", BILLED),
        ("Tier1", "Support", BILLED),
        ("Tier2", "Support", BILLED),
    ]:
        ids[name] = _create(
            api, caller, name, type="department", parent_id=ids[parent], billing_mode=mode
        )["id"]
    return ids


def _payers(node: dict[str, Any], names: dict[str, str]) -> dict[str, str]:
    out = {names[node["id"]]: names[node["paying_account_id"]]}
    for child in node["children"]:
        out |= _payers(child, names)
    return out


def test_create_and_get_an_account(api: Api, uk: Caller) -> None:
    # given a UK tenant
    # when an account is created with contact details and a national phone number
    created = _create(
        api,
        uk,
        "Acme Ltd",
        external_id="crm-1",
        contact_name="Ada",
        email="ada@acme.example",
        phone="020 7123 4567",
        billing_address={"line1": "1 High St", "city": "London", "country": "gb"},
        billing_cycle="anniversary",
        billing_day=15,
        payment_terms_days=14,
    )

    # then every field is stored, defaults come from the tenant, and it pays for itself
    assert created == {
        "id": created["id"],
        "tenant_id": uk.tenant_id,
        "external_id": "crm-1",
        "name": "Acme Ltd",
        "type": "customer",
        "parent_id": None,
        "billing_mode": "self_paying",
        "contact_name": "Ada",
        "email": "ada@acme.example",
        "phone": "+442071234567",
        "billing_address": {
            "line1": "1 High St",
            "line2": None,
            "city": "London",
            "region": None,
            "postcode": None,
            "country": "GB",
        },
        "service_address": None,
        "currency": "GBP",
        "language": "en_GB",
        "payment_terms_days": 14,
        "billing_cycle": "anniversary",
        "billing_day": 15,
        "invoice_delivery": "email",
        "auto_pay": False,
        "created_at": NOW,
        "updated_at": NOW,
        "paying_account_id": created["id"],
    }
    assert created["id"].startswith("acc_")
    # and reading it back gives the same
    assert api.ok(uk, f"/v1/accounts/{created['id']}") == created


def test_a_department_is_paid_by_its_nearest_paying_ancestor(api: Api, uk: Caller) -> None:
    # given Org ABC
    ids = _org_abc(api, uk)

    # when Tier1 and HR are read
    tier1 = api.ok(uk, f"/v1/accounts/{ids['Tier1']}")
    hr = api.ok(uk, f"/v1/accounts/{ids['HR']}")

    # then Support pays Tier1 and ABC pays HR
    assert tier1["paying_account_id"] == ids["Support"]
    assert tier1["parent_id"] == ids["Support"]
    assert tier1["billing_mode"] == BILLED
    assert hr["paying_account_id"] == ids["ABC"]


def test_org_abc_tree_and_its_payers(api: Api, uk: Caller) -> None:
    # given Org ABC built over the API
    ids = _org_abc(api, uk)
    names = {v: k for k, v in ids.items()}

    # when its tree is read
    tree = api.ok(uk, f"/v1/accounts/{ids['ABC']}/tree")

    # then children are ordered by name and each names its payer (SPEC C2)
    assert [names[c["id"]] for c in tree["children"]] == ["HR", "Sales", "Support"]
    support = tree["children"][2]
    assert [names[c["id"]] for c in support["children"]] == ["Tier1", "Tier2"]
    assert _payers(tree, names) == {
        "ABC": "ABC",
        "Sales": "ABC",
        "HR": "ABC",
        "Support": "Support",
        "Tier1": "Support",
        "Tier2": "Support",
    }
    assert tree["type"] == "customer"
    assert support["type"] == "department"
    assert support["billing_mode"] == "self_paying"
    # and the tree of Support alone starts there
    sub = api.ok(uk, f"/v1/accounts/{ids['Support']}/tree")
    assert _payers(sub, names) == {"Support": "Support", "Tier1": "Support", "Tier2": "Support"}


def test_move_changes_the_payer_and_a_cycle_is_refused(api: Api, uk: Caller) -> None:
    # given Org ABC
    ids = _org_abc(api, uk)
    names = {v: k for k, v in ids.items()}
    before = api.ok(uk, f"/v1/accounts/{ids['ABC']}/tree")

    # when Tier2 moves under HR, and ABC is then moved under Tier1
    moved = api.post(uk, f"/v1/accounts/{ids['Tier2']}/move", {"parent_id": ids["HR"]})
    cycle = api.post(uk, f"/v1/accounts/{ids['ABC']}/move", {"parent_id": ids["Tier1"]})
    onto_itself = api.post(uk, f"/v1/accounts/{ids['HR']}/move", {"parent_id": ids["HR"]})

    # then Tier2 is paid by ABC now, and the cycles are refused
    assert moved.status_code == 200, moved.text
    assert moved.json()["parent_id"] == ids["HR"]
    assert moved.json()["paying_account_id"] == ids["ABC"]
    assert_problem(cycle, status=409, code="account_cycle", field="parent_id")
    assert_problem(onto_itself, status=409, code="account_cycle", field="parent_id")
    tree = api.ok(uk, f"/v1/accounts/{ids['ABC']}/tree")
    assert _payers(tree, names)["Tier2"] == "ABC"
    assert tree != before
    assert api.ok(uk, f"/v1/accounts/{ids['ABC']}")["parent_id"] is None


def test_move_to_the_top_needs_self_paying(api: Api, uk: Caller) -> None:
    # given Org ABC
    ids = _org_abc(api, uk)

    # when Sales (billed to its parent) moves to the top as it is, then as self-paying
    refused = api.post(uk, f"/v1/accounts/{ids['Sales']}/move", {"parent_id": None})
    moved = api.post(
        uk,
        f"/v1/accounts/{ids['Sales']}/move",
        {"parent_id": None, "billing_mode": "self_paying"},
    )

    # then the first is refused and the second makes Sales its own payer
    assert_problem(refused, status=422, code="account_no_parent_to_bill", field="parent_id")
    assert moved.status_code == 200, moved.text
    assert (moved.json()["parent_id"], moved.json()["paying_account_id"]) == (None, ids["Sales"])


def test_list_walks_every_page_seeing_each_account_once(api: Api, uk: Caller) -> None:
    # given Org ABC (6 accounts) and one more top-level account
    ids = _org_abc(api, uk)
    ids["Solo"] = _create(api, uk, "Solo", external_id="crm-solo")["id"]

    # when the list is walked two at a time
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.ok(uk, "/v1/accounts", **params)
        pages += 1
        seen += [a["id"] for a in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    # then every account shows exactly once, ordered by id, over four pages
    assert seen == sorted(ids.values())
    assert pages == 4


def test_list_filters(api: Api, uk: Caller) -> None:
    # given Org ABC, one more top-level account, and a brand with an account of its own
    ids = _org_abc(api, uk)
    ids["Solo"] = _create(api, uk, "Solo", external_id="crm-solo")["id"]
    brand = api.created(uk, "/v1/tenants", {"parent_id": uk.tenant_id, "slug": "br", "name": "B"})
    in_brand = _create(api, uk, "Brand customer", tenant_id=brand["id"])

    def listed(**params: Any) -> list[str]:
        return sorted(a["id"] for a in api.ok(uk, "/v1/accounts", **params)["data"])

    # when the list is filtered
    # then each filter keeps exactly the matching accounts
    assert listed(parent_id=ids["ABC"]) == sorted([ids["Sales"], ids["Support"], ids["HR"]])
    assert listed(parent_id=ids["Support"]) == sorted([ids["Tier1"], ids["Tier2"]])
    assert listed(external_id="crm-solo") == [ids["Solo"]]
    assert listed(external_id="crm-none") == []
    assert listed(top_level=True) == sorted([ids["ABC"], ids["Solo"], in_brand["id"]])
    assert listed(tenant_id=brand["id"]) == [in_brand["id"]]
    assert listed(tenant_id=uk.tenant_id, top_level=True) == sorted([ids["ABC"], ids["Solo"]])
    assert in_brand["tenant_id"] == brand["id"]


def test_patch_changes_only_what_is_sent(api: Api, uk: Caller) -> None:
    # given an account
    account = _create(api, uk, "Acme Ltd", email="ada@acme.example", external_id="crm-1")
    api.clock.set(api.clock.now().replace(hour=11))

    # when its name, terms and cycle change and its e-mail is removed
    response = api.patch(
        uk,
        f"/v1/accounts/{account['id']}",
        {
            "name": "Acme Limited",
            "payment_terms_days": 45,
            "email": None,
            "billing_cycle": "anniversary",
            "billing_day": 31,
            "language": "fr_FR",
        },
    )

    # then those fields change and nothing else
    assert response.status_code == 200, response.text
    assert response.json() == account | {
        "name": "Acme Limited",
        "payment_terms_days": 45,
        "email": None,
        "billing_cycle": "anniversary",
        "billing_day": 31,
        "language": "fr_FR",
        "updated_at": "2026-01-15T11:00:00Z",
    }
    assert api.ok(uk, f"/v1/accounts/{account['id']}") == response.json()


def test_patch_refuses_nulls_and_taken_external_ids(api: Api, uk: Caller) -> None:
    # given two accounts
    first = _create(api, uk, "First", external_id="crm-1")
    second = _create(api, uk, "Second", external_id="crm-2")
    path = f"/v1/accounts/{second['id']}"

    # when the second takes the first's external id, or its name is nulled
    taken = api.patch(uk, path, {"external_id": "crm-1"})
    nulled = api.patch(uk, path, {"name": None})
    calendar_day = api.patch(uk, path, {"billing_day": 5})

    # then each is refused and the account is unchanged
    assert_problem(taken, status=409, code="account_external_id_taken", field="external_id")
    assert_problem(nulled, status=422, code="invalid_input", field="name")
    assert_problem(calendar_day, status=422, code="invalid_input", field="billing_day")
    assert api.ok(uk, path) == second
    assert first["external_id"] == "crm-1"


def test_delete_a_leaf_and_refuse_a_parent(api: Api, uk: Caller) -> None:
    # given Org ABC
    ids = _org_abc(api, uk)
    before = api.count("accounts")

    # when a leaf and then a parent are deleted
    leaf = api.delete(uk, f"/v1/accounts/{ids['Tier2']}")
    parent = api.delete(uk, f"/v1/accounts/{ids['Support']}")

    # then the leaf is gone (204, no body), the parent stays (409)
    assert leaf.status_code == 204
    assert leaf.content == b""
    gone = api.get(uk, f"/v1/accounts/{ids['Tier2']}")
    assert_problem(gone, status=404, code="not_found", field="account_id")
    assert_problem(parent, status=409, code="account_has_children", field="account_id")
    assert api.count("accounts") == before - 1
    # and deleting the leaf again finds nothing
    assert_problem(
        api.delete(uk, f"/v1/accounts/{ids['Tier2']}"),
        status=404,
        code="not_found",
        field="account_id",
    )


def test_an_account_that_held_a_number_cannot_be_deleted(api: Api, uk: Caller) -> None:
    # given an account that held a number
    account = _create(api, uk, "Holder")
    [number] = api.created(uk, "/v1/numbers", {"numbers": ["+442071234567"]})
    api.created(
        uk,
        f"/v1/numbers/{number['id']}/assign",
        {"account_id": account["id"], "valid_from": "2026-01-01T00:00:00Z"},
    )

    # when it is deleted
    response = api.delete(uk, f"/v1/accounts/{account['id']}")

    # then it is refused: its history must be kept
    assert_problem(response, status=409, code="account_has_numbers", field="account_id")
    assert api.ok(uk, f"/v1/accounts/{account['id']}")["name"] == "Holder"


def test_billed_to_parent_takes_the_payers_currency(api: Api, uk: Caller) -> None:
    # given a payer in USD in a GBP tenant
    payer = _create(api, uk, "US payer", currency="USD")

    # when a department is billed to it, once without a currency and once in EUR
    child = _create(api, uk, "Dept", parent_id=payer["id"], billing_mode=BILLED)
    clash = api.post(
        uk,
        "/v1/accounts",
        {"name": "Dept2", "parent_id": payer["id"], "billing_mode": BILLED, "currency": "EUR"},
    )
    orphan = api.post(uk, "/v1/accounts", {"name": "Dept3", "billing_mode": BILLED})

    # then the first bills in USD, the others are refused
    assert (child["currency"], child["paying_account_id"]) == ("USD", payer["id"])
    assert_problem(clash, status=422, code="account_currency_mismatch", field="currency")
    assert_problem(orphan, status=422, code="account_no_parent_to_bill", field="parent_id")
