"""/v1/rating/runs and /v1/rated-usage over HTTP: rate, refuse a second rating, re-rate; and
the rating rules: rounding, tiers, margins."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from tests.e2e.conftest import Api, Caller, assert_problem
from tests.e2e.test_api_usage import CDRS, _upload
from tests.e2e.test_api_usage import us as us  # a New York tenant holding the NY number
from tests.unit.mediation.samples import NY

from billstream.rating.models import CardKind
from billstream.rating.service import import_rate_card
from billstream.tenants.service import operator_context

PERIOD = {"period_start": "2026-01-01", "period_end": "2026-02-01"}


def _card(api: Api, caller: Caller, rate: str, effective_from: date, **options: Any) -> None:
    options.setdefault("name", "retail")
    options.setdefault("kind", CardKind.RETAIL)
    import_rate_card(
        api.session,
        clock=api.clock,
        ctx=operator_context(api.session, caller.tenant_id),
        rows=[{"prefix": "1212", "rate": rate}],
        source="api-test.csv",
        effective_from=effective_from,
        **options,
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


def test_a_rule_splitting_at_band_boundaries_over_http(api: Api, us: Caller) -> None:
    # given the 65 s call (inside one band) and a card at 0.06/min
    assert _upload(api, us, CDRS, timezone="America/New_York").status_code == 201
    _card(api, us, "0.06", date(2026, 1, 1))

    # when the tenant sets a 60/60 rule splitting calls at band boundaries
    rule = {"first_s": 60, "next_s": 60, "split_bands": True, "effective_from": "2026-01-01"}
    created = api.created(us, "/v1/rating/rules", rule)
    assert created["split_bands"] is True
    assert [r["split_bands"] for r in api.ok(us, "/v1/rating/rules")["data"]] == [True]

    # then a call crossing no boundary is rated whole, its lineage saying so
    run = api.created(us, "/v1/rating/runs", PERIOD)
    [row] = api.ok(us, "/v1/rated-usage", run_id=run["id"])["data"]
    assert (row["billed_s"], row["amount_micros"]) == (120, 120_000)
    assert (row["split_s"], row["band_split"]) == (0, None)


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


MARGIN_RULE = {"percent": "25", "prefix": "+1212", "effective_from": "2026-01-01"}


def test_margin_rules_are_set_listed_and_price_what_no_card_rates(api: Api, us: Caller) -> None:
    # given a 65 s call to New York through carrier acme, no retail card, acme's cost 0.06/min
    call = {
        "record_key": "m1",
        "started_at": "2026-01-10T15:00:00Z",
        "duration_s": 65,
        "called": "+1" + NY,
        "carrier": "acme",
    }
    assert api.created(us, "/v1/usage/events", {"events": [call]})["accepted"] == 1
    _card(api, us, "0.06", date(2026, 1, 1), name="acme", kind=CardKind.COST, carrier="acme")

    # when the tenant prices New York at cost + 25 %, at least 0.002 a minute over cost
    created = api.created(us, "/v1/rating/margin-rules", {**MARGIN_RULE, "min_margin": "0.002"})

    # then the rule is stored exactly, listed, and a second one of that day is refused
    assert (created["tenant_id"], created["prefix"], created["usage_type"]) == (
        us.tenant_id,
        "1212",
        None,
    )
    assert (created["percent"], created["min_margin_micros"]) == ("25", 2_000)
    assert [r["id"] for r in api.ok(us, "/v1/rating/margin-rules")["data"]] == [created["id"]]
    again = api.post(us, "/v1/rating/margin-rules", MARGIN_RULE)
    assert_problem(again, status=409, code="conflict", field="effective_from")

    # and rating prices the call at its cost (120 s x 0.06 = 0.12) + 25 % = 0.15, naming the rule
    run = api.created(us, "/v1/rating/runs", PERIOD)
    assert (run["rated"], run["rejected"], run["retail_micros"]) == (1, 0, 150_000)
    [row] = api.ok(us, "/v1/rated-usage", run_id=run["id"])["data"]
    assert (row["amount_micros"], row["cost_micros"], row["margin_micros"]) == (
        150_000,
        120_000,
        30_000,
    )
    assert (row["margin_rule_id"], row["rate_id"], row["billed_s"]) == (created["id"], None, 120)


def test_a_margin_rule_ended_prices_nothing_from_its_end(api: Api, us: Caller) -> None:
    # given a call to New York on Jan 10, priced only by a margin rule from Jan 1
    call = {"record_key": "m1", "started_at": "2026-01-10T15:00:00Z", "duration_s": 65,
            "called": "+1" + NY, "carrier": "acme"}  # fmt: skip
    assert api.created(us, "/v1/usage/events", {"events": [call]})["accepted"] == 1
    _card(api, us, "0.06", date(2026, 1, 1), name="acme", kind=CardKind.COST, carrier="acme")
    rule = api.created(us, "/v1/rating/margin-rules", MARGIN_RULE)

    # when the rule is ended from Jan 10
    end = {"prefix": "+1212", "effective_from": "2026-01-10"}
    ended = api.created(us, "/v1/rating/margin-rules/end", end)

    # then the end is listed after the rule, without a percent, and cannot be repeated
    assert (ended["prefix"], ended["percent"]) == ("1212", None)
    listed = api.ok(us, "/v1/rating/margin-rules")["data"]
    assert [(r["id"], r["percent"]) for r in listed] == [(rule["id"], "25"), (ended["id"], None)]
    again = api.post(us, "/v1/rating/margin-rules/end", {**end, "effective_from": "2026-01-11"})
    assert_problem(again, status=409, code="conflict", field="effective_from")
    # nor can a rule that never was be ended
    before = api.counts()
    none = api.post(us, "/v1/rating/margin-rules/end", {"prefix": "44"})
    assert_problem(none, status=409, code="conflict", field="effective_from")
    assert api.counts() == before

    # and the call is rated without a rate
    run = api.created(us, "/v1/rating/runs", PERIOD)
    assert (run["rated"], run["rejected"], run["retail_micros"]) == (0, 1, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"percent": "-100"}, "percent"),
        ({"percent": "10000.01"}, "percent"),
        ({"percent": "1.00001"}, "percent"),
        ({"percent": "lots"}, "percent"),
        ({"prefix": "12a"}, "prefix"),
        ({"prefix": "0"}, "prefix"),
        ({"usage_type": "not a type"}, "usage_type"),
        ({"min_margin": "0.0000001"}, "min_margin"),
        ({"min_margin": "-1"}, "min_margin"),
    ],
)
def test_a_bad_margin_rule_is_refused_naming_the_field(
    api: Api, us: Caller, change: dict[str, Any], field: str
) -> None:
    before = api.counts()
    refused = api.post(us, "/v1/rating/margin-rules", {**MARGIN_RULE, **change})
    assert_problem(refused, status=422, code="invalid_input", field=field)
    assert api.counts() == before


CARD_CSV = b"prefix,description,rate,connect_fee\n1212,New York,0.06,\n1,USA,0.02,0.01\n"


def _import(api: Api, caller: Caller, data: bytes, **form: str) -> Any:
    return api.client.post(
        "/v1/rating/cards",
        headers=caller.headers,
        files={"file": ("retail.csv", data, "text/csv")},
        data={"name": "retail", "kind": "retail", "effective_from": "2026-01-01", **form},
    )


def test_a_card_is_imported_over_http_and_rates_the_next_run(api: Api, us: Caller) -> None:
    # given a CDR to New York and a card uploaded with one bad row
    assert _upload(api, us, CDRS, timezone="America/New_York").status_code == 201
    imported = _import(api, us, CARD_CSV + b"44x,Nowhere,0.1,\n")
    assert imported.status_code == 201, imported.text
    body = imported.json()
    assert (body["version"], body["rows"], body["imported"]) == (1, 3, 2)
    assert [(e["line"], e["column"]) for e in body["errors"]] == [(4, "prefix")]

    # when January is rated, the card's longest prefix prices the call (120 s at 0.06)
    run = api.created(us, "/v1/rating/runs", PERIOD)
    [row] = api.ok(us, "/v1/rated-usage", run_id=run["id"])["data"]
    assert (row["matched_prefix"], row["amount_micros"]) == ("1212", 120_000)

    # and the same name again is the card's next version
    again = _import(api, us, CARD_CSV, effective_from="2026-02-01")
    assert (again.status_code, again.json()["version"]) == (201, 2)


@pytest.mark.parametrize(
    ("data", "form", "field"),
    [
        (b"", {}, "file"),  # empty
        (b"\xff\xfe\x00bad", {}, "file"),  # not UTF-8
        (b"prefix,rate\nabc,0.1\n", {}, "file"),  # no row left
        (b"prefix,rate\n44,0.1\n44,0.2\n", {}, None),  # one destination twice, windows overlap
        (CARD_CSV, {"name": ""}, "name"),
        (CARD_CSV, {"kind": "wholesale"}, "kind"),
        (CARD_CSV, {"currency": "XXQ"}, "currency"),
        (CARD_CSV, {"effective_from": "2026-13-01"}, "effective_from"),
    ],
)
def test_a_bad_card_upload_is_refused_and_writes_nothing(
    api: Api, us: Caller, data: bytes, form: dict[str, str], field: str | None
) -> None:
    before = api.counts()
    refused = _import(api, us, data, **form)
    assert refused.status_code == 422, refused.text
    if field is not None:
        assert_problem(refused, status=422, code="invalid_input", field=field)
    else:
        assert "overlaps" in refused.text
    assert api.counts() == before
