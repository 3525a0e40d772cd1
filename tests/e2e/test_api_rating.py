"""/v1/rating/runs and /v1/rated-usage over HTTP: rate, refuse a second rating, re-rate."""

from __future__ import annotations

from datetime import date

from tests.e2e.conftest import Api, Caller, assert_problem
from tests.e2e.test_api_usage import CDRS, _upload
from tests.e2e.test_api_usage import us as us  # a New York tenant holding the NY number

from billstream.rating.models import CardKind
from billstream.rating.service import import_rate_card
from billstream.tenants.service import operator_scope

PERIOD = {"period_start": "2026-01-01", "period_end": "2026-02-01"}


def _card(api: Api, caller: Caller, rate: str, effective_from: date) -> None:
    import_rate_card(
        api.session,
        clock=api.clock,
        scope=operator_scope(api.session, caller.tenant_id),
        tenant_id=caller.tenant_id,
        name="retail",
        kind=CardKind.RETAIL,
        rows=[{"prefix": "1212", "rate": rate}],
        source="api-test.csv",
        effective_from=effective_from,
    )
    api.session.commit()


def test_a_period_is_rated_then_rerated_with_the_difference_visible(api: Api, us: Caller) -> None:
    # given one call of 65 s to New York (billed 120 s at 60/60) and a card at 0.06/min
    assert _upload(api, us, CDRS, timezone="America/New_York").status_code == 201
    _card(api, us, "0.06", date(2026, 1, 1))

    # when January is rated
    run = api.created(us, "/v1/rating/runs", PERIOD)

    # then the call costs 0.12 and its row explains it
    assert (run["version"], run["rated"], run["retail_micros"]) == (1, 1, 120_000)
    [row] = api.ok(us, "/v1/rated-usage", run_id=run["id"])["data"]
    assert (row["matched_prefix"], row["billed_s"], row["amount_micros"]) == ("1212", 120, 120_000)
    assert (row["band"], row["first_increment_s"], row["reject_reason"]) == (
        "weekend",
        60,
        None,
    )  # Sat 10 Jan

    # a second rating of the same period is refused: nothing is charged twice
    again = api.post(us, "/v1/rating/runs", PERIOD)
    assert_problem(again, status=409, code="conflict", field="from")

    # a new rate from Jan 5 and a re-rating: version 2, the difference shown
    _card(api, us, "0.03", date(2026, 1, 5))
    rerun = api.created(us, "/v1/rating/runs", {**PERIOD, "rerate": True})
    assert (rerun["version"], rerun["retail_micros"], rerun["difference_micros"]) == (
        2,
        60_000,
        -60_000,
    )
    current = api.ok(us, "/v1/rated-usage")["data"]
    assert [r["run_id"] for r in current] == [rerun["id"]]
    replaced = api.ok(us, "/v1/rated-usage", run_id=run["id"], current=False)["data"]
    assert [r["superseded_by"] for r in replaced] == [rerun["id"]]
    assert api.ok(us, f"/v1/rating/runs/{rerun['id']}")["superseded_micros"] == 120_000


def test_rounding_rules_are_set_listed_and_used_by_the_next_rating(api: Api, us: Caller) -> None:
    # given the 65 s call and a card at 0.06/min (60/60 would bill 120 s)
    assert _upload(api, us, CDRS, timezone="America/New_York").status_code == 201
    _card(api, us, "0.06", date(2026, 1, 1))

    # when the tenant sets SPEC C6's rules (65 s → 90 s) and lists them
    rule = {"free_below_s": 30, "first_s": 60, "next_s": 30, "effective_from": "2026-01-01"}
    created = api.created(us, "/v1/rating/rules", rule)
    assert (created["tenant_id"], created["usage_type"], created["mode"]) == (
        us.tenant_id,
        None,
        "up",
    )
    listed = api.ok(us, "/v1/rating/rules")["data"]
    assert [r["id"] for r in listed] == [created["id"]]
    again = api.post(us, "/v1/rating/rules", rule)
    assert_problem(again, status=409, code="conflict", field="effective_from")

    # then rating bills 90 s: 0.09
    run = api.created(us, "/v1/rating/runs", PERIOD)
    [row] = api.ok(us, "/v1/rated-usage", run_id=run["id"])["data"]
    assert (row["billed_s"], row["next_increment_s"], row["amount_micros"]) == (90, 30, 90_000)


def test_period_tiers_are_set_listed_and_refused_when_inexact(api: Api, us: Caller) -> None:
    # given a tier set for voice: 0.06 a minute, then 0.03 from the 15th minute of the period
    body = {
        "usage_type": "voice",
        "tiers": [{"from_quantity": 900, "rate": "0.03"}, {"from_quantity": 0, "rate": "0.06"}],
        "effective_from": "2026-01-01",
    }
    created = api.created(us, "/v1/rating/tiers", body)

    # then it is stored in order, in micro-units, and listed
    assert (created["usage_type"], created["tiers"]) == (
        "voice",
        [
            {"from_quantity": 0, "rate_micros": 60_000},
            {"from_quantity": 900, "rate_micros": 30_000},
        ],
    )
    assert [s["set_id"] for s in api.ok(us, "/v1/rating/tiers")["data"]] == [created["set_id"]]

    # and a rate finer than a micro-unit, or tiers not starting at 0, are refused
    before = api.counts()
    finer = {**body, "tiers": [{"from_quantity": 0, "rate": "0.0000001"}]}
    assert_problem(
        api.post(us, "/v1/rating/tiers", finer),
        status=422,
        code="invalid_input",
        field="tiers[0].rate",
    )
    late = {**body, "tiers": [{"from_quantity": 60, "rate": "0.06"}]}
    assert_problem(
        api.post(us, "/v1/rating/tiers", late), status=422, code="invalid_input", field="tiers"
    )
    assert api.counts() == before
