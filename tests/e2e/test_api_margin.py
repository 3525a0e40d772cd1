"""GET /v1/rating/margin over HTTP: the margin report of the current rated records."""

from __future__ import annotations

from datetime import date

from tests.e2e.conftest import Api, Caller, assert_problem
from tests.e2e.test_api_rating import PERIOD, _card
from tests.e2e.test_api_usage import CDRS, _upload
from tests.e2e.test_api_usage import us as us  # a New York tenant holding the NY number

MONTH = {"from": "2026-01-01", "to": "2026-02-01"}


def test_the_margin_per_destination_counts_the_current_rating_only(api: Api, us: Caller) -> None:
    # given one call of 65 s to New York rated at 0.06/min (0.12), then re-rated unchanged
    assert _upload(api, us, CDRS, timezone="America/New_York").status_code == 201
    _card(api, us, "0.06", date(2026, 1, 1))
    api.created(us, "/v1/rating/runs", PERIOD)
    api.created(us, "/v1/rating/runs", {**PERIOD, "rerate": True})

    # when the margin per destination is asked for
    report = api.ok(us, "/v1/rating/margin", group_by="destination", **MONTH)

    # then one group: no cost card, so the cost is 0 and the record counts as uncosted
    [group] = report["groups"]
    assert (group["key"], group["records"], group["billed_minutes"]) == ("1212", 1, "2")
    assert (group["retail_micros"], group["cost_micros"], group["margin_micros"]) == (
        120_000,
        0,
        120_000,
    )
    assert group["uncosted"] == 1
    assert [t["retail_micros"] for t in report["totals"]] == [120_000]
    assert report["truncated"] is False


def test_a_bad_grouping_or_period_is_a_problem(api: Api, us: Caller) -> None:
    bad = api.get(us, "/v1/rating/margin", group_by="planet", **MONTH)
    assert bad.status_code == 422
    backwards = api.get(
        us, "/v1/rating/margin", group_by="carrier", **{"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert_problem(backwards, status=422, code="invalid_input", field="to")
