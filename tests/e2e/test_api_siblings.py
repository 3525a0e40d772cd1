"""Two brands of one parent company cannot reach each other's data by ids in request bodies,
nor learn anything from dedupe (issue 17, section 3).

Each refusal is compared with the answer to an id nobody holds: a sibling's real id must get
exactly that answer (status, code, field, and the detail but for the id), and nothing may be
written pointing at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from httpx2 import Response
from tests.e2e.conftest import Api, Caller, assert_problem
from tests.e2e.test_api_usage import CHICAGO, JAN, _hold, _upload
from tests.unit.mediation.samples import CALLER, NY, asterisk_row, lines

UNKNOWN_ACCOUNT = "acc_0123456789abcdef0123456789abcdef"
UNKNOWN_SUBSCRIPTION = "sub_0123456789abcdef0123456789abcdef"
PERIOD = {"period_start": "2026-01-01", "period_end": "2026-02-01"}


@dataclass
class Siblings:
    """A parent company (its key reaches both brands) and two brands with keys of their own."""

    parent: Caller
    north: Caller
    south: Caller
    north_account: str  # holds NY in the north brand
    south_account: str  # holds CHICAGO in the south brand


@pytest.fixture
def siblings(api: Api) -> Siblings:
    parent = api.tenant(currency="USD", timezone="America/New_York", locale="en_US")
    north = api.tenant(parent=parent.tenant_id, descendants=False, slug="north", name="North")
    south = api.tenant(parent=parent.tenant_id, descendants=False, slug="south", name="South")
    return Siblings(parent, north, south, _hold(api, north, "+1" + NY), _hold(api, south, CHICAGO))


def same_answer(sibling: Response, unknown: Response, *, sibling_id: str, unknown_id: str) -> None:
    """The answers to a sibling's id and to an unknown id are the same, but for the id."""
    assert sibling.status_code == unknown.status_code, (sibling.text, unknown.text)
    assert sibling.json() == {
        key: value.replace(unknown_id, sibling_id) if isinstance(value, str) else value
        for key, value in unknown.json().items()
    }


def test_a_rating_run_for_a_siblings_account_answers_as_for_an_unknown_account(
    api: Api, siblings: Siblings
) -> None:
    # given the south brand's account, which the north brand's key cannot see
    before = api.count("rating_runs")

    # when the north brand rates January for it, and for an account nobody has
    sibling = api.post(
        siblings.north, "/v1/rating/runs", {**PERIOD, "account_id": siblings.south_account}
    )
    unknown = api.post(siblings.north, "/v1/rating/runs", {**PERIOD, "account_id": UNKNOWN_ACCOUNT})

    # then both are the same 404 naming account_id, and no run was created
    assert_problem(unknown, status=404, code="not_found", field="account_id")
    same_answer(sibling, unknown, sibling_id=siblings.south_account, unknown_id=UNKNOWN_ACCOUNT)
    assert api.count("rating_runs") == before
    # and its own account is rated (the body is otherwise valid)
    own = api.post(
        siblings.north, "/v1/rating/runs", {**PERIOD, "account_id": siblings.north_account}
    )
    assert own.status_code == 201, own.text
    # and the parent, whose key reaches the south brand, rates it in the south brand only
    body = {**PERIOD, "account_id": siblings.south_account}
    in_north = api.post(
        siblings.parent, "/v1/rating/runs", {**body, "tenant_id": siblings.north.tenant_id}
    )
    assert_problem(in_north, status=404, code="not_found", field="account_id")
    in_south = api.post(
        siblings.parent, "/v1/rating/runs", {**body, "tenant_id": siblings.south.tenant_id}
    )
    assert in_south.status_code == 201, in_south.text


CATALOG = b"""\
effective_from: 2026-01-01
products:
  - {code: numbers, name: Numbers, kind: recurring}
plans:
  - code: numbers-monthly
    name: Numbers Monthly
    currencies: [USD]
    charges:
      - code: numbers
        product: numbers
        prices: [{currency: USD, model: {type: per_unit, unit_price: 5.00}}]
"""


def _subscribe(api: Api, caller: Caller, account_id: str) -> str:
    """An order of the brand's numbers plan for `account_id`; its id."""
    if not api.ok(caller, "/v1/plans")["data"]:
        applied = api.call(
            caller,
            "POST",
            "/v1/catalog/apply",
            content=CATALOG,
            headers={"Content-Type": "application/yaml"},
        )
        assert applied.status_code == 200, applied.text
    order = {"account_id": account_id, "plan": "numbers-monthly", "start_date": "2026-01-01"}
    return str(api.created(caller, "/v1/subscriptions", order)["id"])


def _number(api: Api, caller: Caller, e164: str) -> str:
    [number] = api.created(caller, "/v1/numbers", {"numbers": [e164]})
    return str(number["id"])


def test_a_number_assigned_under_a_siblings_subscription_answers_as_under_an_unknown_one(
    api: Api, siblings: Siblings
) -> None:
    # given a subscription of the south brand, and a new number of the north brand
    south_subscription = _subscribe(api, siblings.south, siblings.south_account)
    number = _number(api, siblings.north, "+12125550111")
    before = api.count("number_assignments")
    assign = f"/v1/numbers/{number}/assign"
    body = {"account_id": siblings.north_account, "valid_from": JAN}

    # when the north brand assigns it under the south's subscription, and under a made-up one
    sibling = api.post(siblings.north, assign, {**body, "subscription_id": south_subscription})
    unknown = api.post(siblings.north, assign, {**body, "subscription_id": UNKNOWN_SUBSCRIPTION})

    # then both are the same 404 naming subscription_id, and nothing was stored
    assert_problem(unknown, status=404, code="not_found", field="subscription_id")
    same_answer(sibling, unknown, sibling_id=south_subscription, unknown_id=UNKNOWN_SUBSCRIPTION)
    assert api.count("number_assignments") == before
    # and the parent, who sees both brands, cannot put a south subscription on a north number
    across = api.post(siblings.parent, assign, {**body, "subscription_id": south_subscription})
    assert_problem(across, status=404, code="not_found", field="subscription_id")
    assert api.count("number_assignments") == before
    # and under its own account's subscription, the assignment is stored with it
    own = _subscribe(api, siblings.north, siblings.north_account)
    stored = api.created(siblings.north, assign, {**body, "subscription_id": own})
    assert stored["subscription_id"] == own


def test_a_numbers_subscription_is_its_accounts_or_an_ancestors(
    api: Api, siblings: Siblings
) -> None:
    # given, in the north brand, a parent account with a department, and an unrelated account
    north = siblings.north
    parent = api.created(north, "/v1/accounts", {"name": "Org ABC"})["id"]
    department = api.created(north, "/v1/accounts", {"name": "Support", "parent_id": parent})["id"]
    parents_subscription = _subscribe(api, north, parent)
    others_subscription = _subscribe(api, north, siblings.north_account)
    number = _number(api, north, "+12125550122")
    assign = f"/v1/numbers/{number}/assign"
    body = {"account_id": department, "valid_from": JAN, "valid_to": "2026-02-01T00:00:00Z"}

    # when the department's number is assigned under the unrelated account's subscription
    refused = api.post(north, assign, {**body, "subscription_id": others_subscription})

    # then it is refused naming subscription_id (both are the caller's own to see)
    problem = assert_problem(
        refused, status=422, code="subscription_not_of_account", field="subscription_id"
    )
    assert siblings.north_account in problem["detail"]
    # and under its parent's subscription it is stored
    stored = api.created(north, assign, {**body, "subscription_id": parents_subscription})
    assert stored["subscription_id"] == parents_subscription


FILE = lines(
    asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 65, uniqueid="call-1"),
    asterisk_row(CALLER, CHICAGO, "2026-01-10 11:00:00", 30, uniqueid="call-2"),
)


def _counts(arrival: dict[str, Any]) -> tuple[Any, ...]:
    names = ("records_in", "accepted", "rejected", "duplicates", "duplicate_of")
    return tuple(arrival[n] for n in names)


def _uploaded(api: Api, caller: Caller, data: bytes) -> dict[str, Any]:
    response = _upload(api, caller, data)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_siblings_file_is_no_duplicate_and_tells_nothing(api: Api, siblings: Siblings) -> None:
    # given the north brand uploaded a file (call-1 to its NY number, call-2 to CHICAGO)
    north = _uploaded(api, siblings.north, FILE)
    assert _counts(north) == (2, 1, 1, 0, None)  # CHICAGO is the south's: not north's to route

    # when the south brand uploads the same bytes
    south = _uploaded(api, siblings.south, FILE)

    # then it is a first arrival of its own: the call to CHICAGO is the south's, NY unknown
    assert _counts(south) == (2, 1, 1, 0, None)
    assert north["id"] not in str(south)
    [reject] = api.ok(siblings.south, "/v1/usage/rejects")["data"]
    assert (reject["reason"], reject["line_no"]) == ("unknown_number", 1)
    # and only the same brand's own upload again is a duplicate, of its own first arrival
    again = _uploaded(api, siblings.south, FILE)
    assert _counts(again) == (2, 0, 0, 2, south["id"])


def test_events_with_a_siblings_record_keys_are_not_duplicates(
    api: Api, siblings: Siblings
) -> None:
    # given the north brand stored the event "call-9" (to its NY number)
    event = {"record_key": "call-9", "started_at": "2026-01-10T10:00:00Z", "duration_s": 60}
    first = api.created(siblings.north, "/v1/usage/events", {**event, "called": "+1" + NY})
    assert (first["accepted"], first["duplicates"]) == (1, 0)

    # when the south brand sends an event of the same key (to its CHICAGO number)
    south = api.created(siblings.south, "/v1/usage/events", {**event, "called": CHICAGO})

    # then it is the south's own record, accepted as any new key would be
    assert (south["accepted"], south["duplicates"], south["duplicate_of"]) == (1, 0, None)
    # and sent again (another batch, the same key) it is a duplicate, of the south's own
    again = {**event, "called": CHICAGO, "duration_s": 61}
    repeat = api.created(siblings.south, "/v1/usage/events", again)
    assert (repeat["accepted"], repeat["duplicates"]) == (0, 1)
    assert api.count("usage_records") == 2
    # and the north's very batch, sent by the south, is a first arrival of the south's own
    same = api.created(siblings.south, "/v1/usage/events", {**event, "called": "+1" + NY})
    assert (same["accepted"], same["rejected"], same["duplicates"]) == (0, 1, 0)
    assert (same["duplicate_of"], same["rejects"][0]["reason"]) == (None, "unknown_number")


def test_a_parents_file_for_all_brands_and_a_brands_copy_of_it(
    api: Api, siblings: Siblings
) -> None:
    # given the parent's one mediation job for all brands: call-1 routes to the north brand,
    # call-2 to the south
    parent = _uploaded(api, siblings.parent, FILE)
    assert _counts(parent) == (2, 2, 0, 0, None)

    # when the north brand uploads the same file
    north = _uploaded(api, siblings.north, FILE)

    # then the file is the north's own arrival (the parent's is the parent's), call-1 is a
    # duplicate (the north owns that record: it routes there), call-2 is not the north's
    assert _counts(north) == (2, 0, 1, 1, None)
    # and the parent's own copy again is a duplicate of its first arrival
    again = _uploaded(api, siblings.parent, FILE)
    assert _counts(again) == (2, 0, 0, 2, parent["id"])
    assert api.count("usage_records") == 2


def test_a_template_for_a_brand_and_another_brands_account_is_refused(
    api: Api, siblings: Siblings
) -> None:
    # given the parent, whose key reaches both brands
    before = api.count("document_templates")
    body = {"body": "<p>walked</p>", "tenant_id": siblings.north.tenant_id}

    # when it sets the north brand's template for the south brand's customer
    response = api.call(
        siblings.parent,
        "PUT",
        "/v1/document-templates/invoice",
        json={**body, "account_id": siblings.south_account},
    )

    # then the account is not the north's: 404 naming it, nothing stored
    assert_problem(response, status=404, code="not_found", field="account_id")
    assert api.count("document_templates") == before
    # and for the north's own customer it is stored
    own = api.call(
        siblings.parent,
        "PUT",
        "/v1/document-templates/invoice",
        json={**body, "account_id": siblings.north_account},
    )
    assert own.status_code == 200, own.text
