"""Two brands of one parent company cannot reach each other's data by ids in request bodies,
nor learn anything from dedupe (issue 17, section 3).

Each refusal is compared with the answer to an id nobody holds: a sibling's real id must get
exactly that answer (status, code, field, and the detail but for the id), and nothing may be
written pointing at it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from httpx2 import Response
from tests.e2e.conftest import Api, Caller, assert_problem
from tests.e2e.test_api_usage import CHICAGO, _hold
from tests.unit.mediation.samples import NY

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
