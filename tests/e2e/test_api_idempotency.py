"""Idempotency-Key on POST: a retry replays the first response and never acts twice."""

from __future__ import annotations

import pytest
from tests.e2e.conftest import Api, Caller, assert_problem


@pytest.fixture
def acme(api: Api) -> Caller:
    return api.tenant(currency="GBP", locale="en_GB")


def test_a_replay_returns_the_first_response_and_creates_nothing(api: Api, acme: Caller) -> None:
    # given an account created with an Idempotency-Key
    body = {"name": "Acme Ltd", "external_id": "crm-1"}
    first = api.post(acme, "/v1/accounts", body, idempotency_key="create-acme")
    assert first.status_code == 201, first.text
    counts = api.counts()
    api.clock.set(api.clock.now().replace(hour=13))

    # when the same request is sent again with the same key, twice
    replays = [api.post(acme, "/v1/accounts", body, idempotency_key="create-acme") for _ in "12"]

    # then each gets the first response, marked as a replay, and no second account exists
    for replay in replays:
        assert replay.status_code == 201
        assert replay.content == first.content
        assert replay.headers["content-type"] == "application/json"
        assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.counts() == counts
    assert api.count("accounts") == 1
    assert api.count("idempotency_records") == 1


def test_a_replay_of_a_bulk_add_and_of_an_action(api: Api, acme: Caller) -> None:
    # given numbers added and one assigned, each with a key
    numbers = {"numbers": ["020 7123 4567", "020 7123 4568"]}
    added = api.post(acme, "/v1/numbers", numbers, idempotency_key="add-1")
    account = api.created(acme, "/v1/accounts", {"name": "Holder"})
    assignment = {"account_id": account["id"], "valid_from": "2026-01-01T00:00:00Z"}
    number_id = added.json()[0]["id"]
    assigned = api.post(acme, f"/v1/numbers/{number_id}/assign", assignment, idempotency_key="as")
    counts = api.counts()

    # when both are retried with their keys
    added_again = api.post(acme, "/v1/numbers", numbers, idempotency_key="add-1")
    assigned_again = api.post(
        acme, f"/v1/numbers/{number_id}/assign", assignment, idempotency_key="as"
    )

    # then both replay (the assignment would otherwise overlap itself) and nothing is added
    assert (added_again.status_code, added_again.content) == (201, added.content)
    assert (assigned_again.status_code, assigned_again.content) == (201, assigned.content)
    assert api.counts() == counts


def test_the_same_key_with_another_body_is_refused(api: Api, acme: Caller) -> None:
    # given an account created with a key
    api.created(acme, "/v1/accounts", {"name": "Acme Ltd"})
    first = api.post(acme, "/v1/accounts", {"name": "Beta"}, idempotency_key="k-1")
    counts = api.counts()

    # when the key is sent with another body, or to another path
    other_body = api.post(acme, "/v1/accounts", {"name": "Gamma"}, idempotency_key="k-1")
    other_path = api.post(acme, "/v1/api-keys", {"name": "Beta"}, idempotency_key="k-1")

    # then both are refused and nothing is written
    assert first.status_code == 201
    for response in (other_body, other_path):
        assert_problem(response, status=422, code="idempotency_key_reused", field="Idempotency-Key")
    assert api.counts() == counts


def test_keys_belong_to_one_api_key(api: Api, acme: Caller) -> None:
    # given a second API key of the same tenant, and an account created with key "k"
    other = api.key(acme.tenant_id)
    first = api.post(acme, "/v1/accounts", {"name": "Acme Ltd"}, idempotency_key="k")

    # when the other API key sends another request with the same Idempotency-Key
    second = api.post(other, "/v1/accounts", {"name": "Beta"}, idempotency_key="k")

    # then it runs as a request of its own
    assert first.status_code == 201
    assert second.status_code == 201, second.text
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["name"] == "Beta"
    assert api.count("accounts") == 2
    assert api.count("idempotency_records") == 2


def test_a_failed_request_is_not_remembered_so_a_corrected_retry_runs(
    api: Api, acme: Caller
) -> None:
    # given a request refused with a key (its parent does not exist)
    refused = api.post(
        acme, "/v1/accounts", {"name": "Dept", "parent_id": "acc_missing"}, idempotency_key="k"
    )
    invalid = api.post(acme, "/v1/accounts", {"name": ""}, idempotency_key="k")
    assert_problem(refused, status=404, code="not_found", field="parent_id")
    assert_problem(invalid, status=422, code="invalid_input", field="name")
    assert api.count("idempotency_records") == 0

    # when the corrected request is sent with the same key, then retried
    corrected = api.post(acme, "/v1/accounts", {"name": "Dept"}, idempotency_key="k")
    retried = api.post(acme, "/v1/accounts", {"name": "Dept"}, idempotency_key="k")

    # then it runs once and its retry replays it
    assert corrected.status_code == 201, corrected.text
    assert retried.content == corrected.content
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert api.count("accounts") == 1


def test_a_key_must_be_1_to_255_characters(api: Api, acme: Caller) -> None:
    # given a key that is too long
    # when it is used
    response = api.post(acme, "/v1/accounts", {"name": "Acme"}, idempotency_key="k" * 256)

    # then the request is refused before it runs
    assert_problem(response, status=422, code="invalid_input", field="Idempotency-Key")
    assert api.count("accounts") == 0


def test_without_a_key_each_post_acts(api: Api, acme: Caller) -> None:
    # given no Idempotency-Key
    # when the same account is posted twice
    first = api.post(acme, "/v1/accounts", {"name": "Acme"})
    second = api.post(acme, "/v1/accounts", {"name": "Acme"})

    # then there are two accounts
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert api.count("idempotency_records") == 0
