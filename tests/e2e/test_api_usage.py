"""/v1/usage over HTTP: file upload, usage events, rejects and their reprocessing."""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.conftest import Api, Caller, assert_problem
from tests.unit.mediation.samples import CALLER, NY, asterisk_row, lines

JAN = "2026-01-01T00:00:00Z"
CHICAGO = "+13125550000"


@pytest.fixture
def us(api: Api) -> Caller:
    caller = api.tenant(currency="USD", timezone="America/New_York", locale="en_US")
    _hold(api, caller, "+1" + NY)
    return caller


def _hold(api: Api, caller: Caller, e164: str) -> str:
    account = api.created(caller, "/v1/accounts", {"name": f"Holder of {e164}"})
    [number] = api.created(caller, "/v1/numbers", {"numbers": [e164]})
    api.created(
        caller,
        f"/v1/numbers/{number['id']}/assign",
        {"account_id": account["id"], "valid_from": JAN},
    )
    return str(account["id"])


def _upload(api: Api, caller: Caller, data: bytes, **form: str) -> Any:
    return api.client.post(
        "/v1/usage/files",
        headers=caller.headers,
        files={"file": ("Master.csv", data, "text/csv")},
        data={"format": "asterisk-cdr-csv", **form},
    )


CDRS = lines(
    asterisk_row(CALLER, NY, "2026-01-10 10:00:00", 65, uniqueid="u1"),
    asterisk_row(CALLER, CHICAGO, "2026-01-10 11:00:00", 30, uniqueid="u2"),
    "garbage",
)


def test_an_uploaded_file_is_ingested_and_its_arrival_recorded(api: Api, us: Caller) -> None:
    # when a Master.csv is uploaded, read in New York time, then uploaded again
    first = _upload(api, us, CDRS, timezone="America/New_York")
    again = _upload(api, us, CDRS)

    # then the arrival shows its counts; the second is all duplicates of the first
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["records_in"], body["accepted"], body["rejected"], body["duplicates"]) == (
        3,
        1,
        2,
        0,
    )
    assert (body["name"], body["format"], body["timezone"]) == (
        "Master.csv",
        "asterisk-cdr-csv",
        "America/New_York",
    )
    assert again.status_code == 201, again.text
    assert again.json()["duplicates"] == 3
    assert again.json()["duplicate_of"] == body["id"]
    assert api.ok(us, f"/v1/usage/files/{body['id']}") == body
    listed = api.ok(us, "/v1/usage/files")["data"]
    assert sorted(f["id"] for f in listed) == sorted([body["id"], again.json()["id"]])
    assert api.count("usage_records") == 1


def test_an_unknown_format_or_zone_is_a_problem(api: Api, us: Caller) -> None:
    assert_problem(
        _upload(api, us, CDRS, format="nope"),
        status=404,
        code="usage_unknown_format",
        field="format",
    )
    assert_problem(
        _upload(api, us, CDRS, timezone="Mars/Base"),
        status=422,
        code="invalid_input",
        field="timezone",
    )


def test_rejects_are_listed_filtered_paginated_and_reprocessed(api: Api, us: Caller) -> None:
    # given a file with a call to an unassigned number and a malformed line
    assert _upload(api, us, CDRS).status_code == 201

    # when the rejects are listed
    everything = api.ok(us, "/v1/usage/rejects")["data"]
    unknown = api.ok(us, "/v1/usage/rejects", reason="unknown_number")["data"]
    page = api.ok(us, "/v1/usage/rejects", limit=1)

    # then each carries its line, reason, detail and raw line
    assert sorted((r["line_no"], r["reason"]) for r in everything) == [
        (2, "unknown_number"),
        (3, "wrong_column_count"),
    ]
    assert [r["line_no"] for r in unknown] == [2]
    assert unknown[0]["raw"].startswith('"","4155550123","+13125550000"')
    assert unknown[0]["status"] == "open"
    assert len(page["data"]) == 1
    rest = api.ok(us, "/v1/usage/rejects", limit=1, cursor=page["next_cursor"])
    assert {page["data"][0]["id"], rest["data"][0]["id"]} == {r["id"] for r in everything}
    assert_problem(
        api.get(us, "/v1/usage/rejects", reason="nope"),
        status=422,
        code="invalid_input",
        field="reason",
    )

    # when the number is assigned and that reason reprocessed
    _hold(api, us, CHICAGO)
    done = api.post(us, "/v1/usage/rejects/reprocess", {"reason": "unknown_number"})

    # then the record is accepted and only the malformed line stays open
    assert done.status_code == 200, done.text
    assert done.json() == {"reprocessed": 1, "accepted": 1, "duplicates": 0, "still_rejected": 0}
    assert [r["reason"] for r in api.ok(us, "/v1/usage/rejects")["data"]] == ["wrong_column_count"]
    reprocessed = api.ok(us, "/v1/usage/rejects", status="reprocessed")["data"]
    assert [r["line_no"] for r in reprocessed] == [2]
    assert api.count("usage_records") == 2


def test_events_single_and_batch_with_rejects_by_index(api: Api, us: Caller) -> None:
    # given a batch: a call, an SMS, a bad date, an unknown number
    batch = {
        "events": [
            {"record_key": "e1", "started_at": "2026-01-10T10:00:00Z", "duration_s": 60,
             "calling": CALLER, "called": NY},
            {"record_key": "e2", "started_at": "2026-01-10T10:00:00Z", "quantity": 1,
             "usage_type": "sms", "called": NY},
            {"record_key": "e3", "started_at": "last tuesday", "called": NY},
            {"record_key": "e4", "started_at": "2026-01-10T10:00:00Z", "called": CHICAGO},
        ]
    }  # fmt: skip

    # when it is posted twice, and one more event alone
    first = api.post(us, "/v1/usage/events", batch)
    again = api.post(us, "/v1/usage/events", batch)
    single = api.post(
        us,
        "/v1/usage/events",
        {"record_key": "e5", "started_at": "2026-01-11T10:00:00Z", "called": NY},
    )

    # then the rejects carry their index, and the second batch counts nothing twice
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["records_in"], body["accepted"], body["rejected"], body["duplicates"]) == (
        4,
        2,
        2,
        0,
    )
    assert [(r["index"], r["reason"]) for r in body["rejects"]] == [
        (2, "bad_timestamp"),
        (3, "unknown_number"),
    ]
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 4)
    assert single.status_code == 201, single.text
    assert single.json()["accepted"] == 1
    assert api.count("usage_records") == 3


def test_a_batch_over_10000_events_is_refused(api: Api, us: Caller) -> None:
    events = [{"record_key": f"e{i}", "called": NY} for i in range(10_001)]
    response = api.post(us, "/v1/usage/events", {"events": events})
    assert response.status_code == 422


def test_a_brand_key_cannot_import_for_its_parent(api: Api, us: Caller) -> None:
    brand = api.created(
        us, "/v1/tenants", {"parent_id": us.tenant_id, "slug": "us-brand", "name": "B"}
    )
    brand_key = api.key(brand["id"])
    response = _upload(api, brand_key, CDRS, tenant_id=us.tenant_id)
    assert_problem(response, status=404, code="not_found", field="tenant_id")
