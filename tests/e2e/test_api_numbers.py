"""/v1/numbers over HTTP: add in bulk, list, read, assign, release, and who held a number when."""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.conftest import Api, Caller, assert_problem

NOW = "2026-01-15T09:00:00Z"
JAN = "2026-01-01T00:00:00Z"
FEB = "2026-02-01T00:00:00Z"
MAR = "2026-03-01T00:00:00Z"


@pytest.fixture
def uk(api: Api) -> Caller:
    return api.tenant(currency="GBP", timezone="Europe/London", locale="en_GB")


def _account(api: Api, caller: Caller, name: str) -> str:
    return str(api.created(caller, "/v1/accounts", {"name": name})["id"])


def _number(api: Api, caller: Caller, e164: str) -> dict[str, Any]:
    [number] = api.created(caller, "/v1/numbers", {"numbers": [e164]})
    return number  # type: ignore[no-any-return]


def test_bulk_add_normalises_national_numbers_with_the_tenants_region(api: Api, uk: Caller) -> None:
    # given a tenant whose locale is en_GB
    # when numbers are added in national and international forms
    added = api.created(
        uk, "/v1/numbers", {"numbers": ["020 7123 4568", "+44 20 7123 4567", "0800 123 4567"]}
    )

    # then they are stored in E.164 (read in GB), sorted, with their kind
    assert [(n["e164"], n["kind"]) for n in added] == [
        ("+442071234567", "geographic"),
        ("+442071234568", "geographic"),
        ("+448001234567", "toll_free"),
    ]
    assert {n["tenant_id"] for n in added} == {uk.tenant_id}
    assert {n["created_at"] for n in added} == {NOW}
    assert all(n["id"].startswith("num_") for n in added)
    # and each reads back by id
    for number in added:
        assert api.ok(uk, f"/v1/numbers/{number['id']}") == number


def test_default_region_overrides_the_locale(api: Api, uk: Caller) -> None:
    # given a UK tenant
    # when a US national number is added with default_region US
    [number] = api.created(
        uk, "/v1/numbers", {"numbers": ["(415) 555-0100"], "default_region": "us"}
    )

    # then it is read as a US number
    assert number["e164"] == "+14155550100"


def test_one_bad_number_refuses_the_whole_batch(api: Api, uk: Caller) -> None:
    # given a UK tenant with one number
    _number(api, uk, "+442071234567")
    before = api.count("phone_numbers")

    # when a batch holds a non-number, a duplicate, or a number already stored
    not_a_number = api.post(
        uk, "/v1/numbers", {"numbers": ["+442071234500", "+442071234501", "hello"]}
    )
    invalid = api.post(uk, "/v1/numbers", {"numbers": ["+442071234500", "12345"]})
    twice = api.post(uk, "/v1/numbers", {"numbers": ["+442071234500", "020 7123 4500"]})
    stored = api.post(uk, "/v1/numbers", {"numbers": ["+442071234500", "020 7123 4567"]})

    # then each is refused naming the number, and nothing is added
    assert_problem(not_a_number, status=422, code="invalid_input", field="numbers[2]")
    assert_problem(invalid, status=422, code="invalid_input", field="numbers[1]")
    assert_problem(twice, status=422, code="invalid_input", field="numbers[1]")
    assert_problem(stored, status=409, code="number_exists", field="numbers[1]")
    assert api.count("phone_numbers") == before


def test_list_with_e164_filter_and_pages(api: Api, uk: Caller) -> None:
    # given three numbers
    added = api.created(
        uk, "/v1/numbers", {"numbers": ["+442071234567", "+442071234568", "+442071234569"]}
    )

    # when listed by number (in any format), and two at a time
    by_number = api.ok(uk, "/v1/numbers", e164="+44 20 7123 4568")
    first = api.ok(uk, "/v1/numbers", limit=2)
    second = api.ok(uk, "/v1/numbers", limit=2, cursor=first["next_cursor"])

    # then the filter finds the one, and the pages hold all three once
    assert by_number == {"data": [added[1]], "next_cursor": None}
    assert [n["id"] for n in first["data"] + second["data"]] == sorted(n["id"] for n in added)
    assert second["next_cursor"] is None
    assert_problem(
        api.get(uk, "/v1/numbers", e164="nope"), status=422, code="invalid_input", field="e164"
    )


def test_assign_release_and_the_assignment_history(api: Api, uk: Caller) -> None:
    # given a number and two accounts
    number = _number(api, uk, "+442071234567")
    alice, bob = _account(api, uk, "Alice"), _account(api, uk, "Bob")
    path = f"/v1/numbers/{number['id']}"

    # when Alice holds it from January (open-ended), is released in February,
    # and Bob takes it from February
    first = api.created(uk, f"{path}/assign", {"account_id": alice, "valid_from": JAN})
    released = api.post(uk, f"{path}/release", {"at": "2026-02-01T01:00:00+01:00"})
    second = api.created(
        uk, f"{path}/assign", {"account_id": bob, "valid_from": FEB, "valid_to": MAR}
    )

    # then the history shows both, half-open and back to back, in UTC
    assert first == {
        "id": first["id"],
        "tenant_id": uk.tenant_id,
        "number_id": number["id"],
        "account_id": alice,
        "subscription_id": None,
        "valid_from": JAN,
        "valid_to": None,
    }
    assert released.status_code == 200, released.text
    assert released.json() == first | {"valid_to": FEB}
    assert second["valid_from"] == FEB
    assert second["valid_to"] == MAR
    assert api.ok(uk, f"{path}/assignments") == [first | {"valid_to": FEB}, second]


def test_an_overlapping_assignment_is_refused(api: Api, uk: Caller) -> None:
    # given a number Alice holds in February
    number = _number(api, uk, "+442071234567")
    alice, bob = _account(api, uk, "Alice"), _account(api, uk, "Bob")
    path = f"/v1/numbers/{number['id']}"
    api.created(uk, f"{path}/assign", {"account_id": alice, "valid_from": FEB, "valid_to": MAR})
    before = api.count("number_assignments")

    # when Bob asks for it over part of February, or open-ended from January
    inside = api.post(
        uk,
        f"{path}/assign",
        {"account_id": bob, "valid_from": "2026-02-10T00:00:00Z", "valid_to": MAR},
    )
    open_ended = api.post(uk, f"{path}/assign", {"account_id": bob, "valid_from": JAN})
    backwards = api.post(
        uk, f"{path}/assign", {"account_id": bob, "valid_from": MAR, "valid_to": FEB}
    )
    nobody = api.post(uk, f"{path}/release", {"at": JAN})

    # then each is refused and nothing is written
    assert_problem(inside, status=409, code="number_assignment_overlap", field="valid_from")
    assert_problem(open_ended, status=409, code="number_assignment_overlap", field="valid_from")
    assert_problem(backwards, status=422, code="invalid_input", field="valid_to")
    assert_problem(nobody, status=409, code="number_not_assigned", field="at")
    assert api.count("number_assignments") == before
    # and the periods just before and after are free (half-open)
    api.created(uk, f"{path}/assign", {"account_id": bob, "valid_from": JAN, "valid_to": FEB})
    api.created(uk, f"{path}/assign", {"account_id": bob, "valid_from": MAR})
    assert api.count("number_assignments") == before + 2


def test_lookup_answers_each_number_and_instant_on_half_open_periods(api: Api, uk: Caller) -> None:
    # given a number Alice holds in January and Bob from February, and one nobody holds
    number = _number(api, uk, "+442071234567")
    _number(api, uk, "+442071234568")
    alice, bob = _account(api, uk, "Alice"), _account(api, uk, "Bob")
    path = f"/v1/numbers/{number['id']}"
    a = api.created(uk, f"{path}/assign", {"account_id": alice, "valid_from": JAN, "valid_to": FEB})
    b = api.created(uk, f"{path}/assign", {"account_id": bob, "valid_from": FEB})

    # when several (number, at) pairs are looked up, on and around the boundaries
    queries = [
        ("+442071234567", "2025-12-31T23:59:59.999999Z"),
        ("+442071234567", JAN),
        ("+442071234567", "2026-01-31T23:59:59.999999Z"),
        ("+442071234567", FEB),
        ("+44 20 7123 4567", "2030-01-01T00:00:00+02:00"),
        ("+442071234568", FEB),
    ]
    response = api.post(
        uk, "/v1/numbers/lookup", {"queries": [{"number": n, "at": t} for n, t in queries]}
    )

    # then each pair gets the holder of its instant, or nobody, in the order asked
    assert response.status_code == 200, response.text
    nobody = dict.fromkeys(("account_id", "tenant_id", "assignment_id", "subscription_id"))

    def held(account: str, assignment: str) -> dict[str, Any]:
        return {
            "account_id": account,
            "tenant_id": uk.tenant_id,
            "assignment_id": assignment,
            "subscription_id": None,
        }

    alice_held, bob_held = held(alice, a["id"]), held(bob, b["id"])
    assert response.json() == [
        {"number": "+442071234567", "at": "2025-12-31T23:59:59.999999Z"} | nobody,
        {"number": "+442071234567", "at": JAN} | alice_held,
        {"number": "+442071234567", "at": "2026-01-31T23:59:59.999999Z"} | alice_held,
        {"number": "+442071234567", "at": FEB} | bob_held,
        {"number": "+442071234567", "at": "2029-12-31T22:00:00Z"} | bob_held,
        {"number": "+442071234568", "at": FEB} | nobody,
    ]


def test_lookup_refuses_a_bad_number_naming_it(api: Api, uk: Caller) -> None:
    # given a UK tenant
    # when a lookup holds a string that is not a number
    response = api.post(
        uk,
        "/v1/numbers/lookup",
        {"queries": [{"number": "+442071234567", "at": JAN}, {"number": "x", "at": JAN}]},
    )

    # then it is refused naming the query
    assert_problem(response, status=422, code="invalid_input", field="queries[1].number")


def test_assign_to_an_unknown_account_or_number(api: Api, uk: Caller) -> None:
    # given a number
    number = _number(api, uk, "+442071234567")

    # when it is assigned to an account that does not exist, or an unknown number is assigned
    no_account = api.post(
        uk, f"/v1/numbers/{number['id']}/assign", {"account_id": "acc_x", "valid_from": JAN}
    )
    no_number = api.post(uk, "/v1/numbers/num_x/assign", {"account_id": "acc_x", "valid_from": JAN})

    # then both are not found, naming what is missing
    assert_problem(no_account, status=404, code="not_found", field="account_id")
    assert_problem(no_number, status=404, code="not_found", field="number_id")
    assert_problem(
        api.get(uk, "/v1/numbers/num_x"), status=404, code="not_found", field="number_id"
    )
