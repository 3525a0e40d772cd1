"""/v1/tenants over HTTP: list, create a brand, read resolved settings, change, inherit again."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api, Caller, assert_problem

NOW = "2026-01-15T09:00:00Z"


def _group(api: Api, *, descendants: bool = True) -> Caller:
    return api.tenant(
        slug="acme",
        name="Acme Group",
        currency="GBP",
        timezone="Europe/London",
        locale="en_GB",
        descendants=descendants,
    )


def _brand(api: Api, group: Caller, **body: Any) -> dict[str, Any]:
    return api.created(
        group,
        "/v1/tenants",
        {"parent_id": group.tenant_id, "slug": "acme-ie", "name": "Acme Ireland", **body},
    )


def test_create_brand_inherits_what_it_does_not_set(api: Api) -> None:
    # given a group tenant in GBP, London time, en_GB, with a key scoped to its descendants
    group = _group(api)

    # when it creates a brand that sets its own currency, time zone and branding
    brand = _brand(
        api, group, currency="EUR", timezone="Europe/Dublin", brand_primary_color="#00AA11"
    )

    # then the brand is below the group, with its overrides and the group's other settings
    assert brand["id"].startswith("ten_")
    assert brand["parent_id"] == group.tenant_id
    assert (brand["slug"], brand["name"]) == ("acme-ie", "Acme Ireland")
    assert brand["overrides"] == {
        "currency": "EUR",
        "timezone": "Europe/Dublin",
        "locale": None,
        "invoice_prefix": None,
        "invoice_format": None,
        "line_precision": None,
        "proration_basis": None,
        "brand_name": None,
        "brand_address": None,
        "brand_logo_url": None,
        "brand_primary_color": "#00aa11",
        "brand_accent_color": None,
        "brand_footer": None,
    }
    assert brand["settings"] == {
        "currency": "EUR",
        "timezone": "Europe/Dublin",
        "locale": "en_GB",
        "invoice_prefix": "INV-",
        "invoice_format": "{prefix}{year}-{seq:06d}",
        "line_precision": None,
        "proration_basis": "actual_days",
        "branding": {
            "name": None,
            "address": None,
            "logo_url": None,
            "primary_color": "#00aa11",
            "accent_color": None,
            "footer": None,
        },
        "sources": {
            "currency": brand["id"],
            "timezone": brand["id"],
            "locale": group.tenant_id,
            "invoice_prefix": "default",
            "invoice_format": "default",
            "line_precision": "default",
            "proration_basis": "default",
            "branding.primary_color": brand["id"],
        },
    }
    assert (brand["created_at"], brand["updated_at"]) == (NOW, NOW)
    # and reading it back gives the same
    assert api.ok(group, f"/v1/tenants/{brand['id']}") == brand


def test_a_key_without_descendants_cannot_create_a_brand(api: Api) -> None:
    # given a key of the group that is not scoped to its descendants
    group = _group(api, descendants=False)
    before = api.count("tenants")

    # when it tries to create a brand below its own tenant
    response = api.post(
        group, "/v1/tenants", {"parent_id": group.tenant_id, "slug": "x", "name": "X"}
    )

    # then it is forbidden and nothing is written
    assert_problem(response, status=403, code="permission_denied", field="parent_id")
    assert api.count("tenants") == before


def test_brand_of_a_brand_and_a_taken_slug(api: Api) -> None:
    # given a group and a brand
    group = _group(api)
    brand = _brand(api, group)

    # when the group creates a sub-brand below the brand, then one with the same slug
    sub = api.created(
        group, "/v1/tenants", {"parent_id": brand["id"], "slug": "acme-ie-cork", "name": "Cork"}
    )
    again = api.post(
        group, "/v1/tenants", {"parent_id": group.tenant_id, "slug": "acme-ie-cork", "name": "C"}
    )

    # then the sub-brand inherits through the brand, and the slug is refused the second time
    assert sub["parent_id"] == brand["id"]
    assert sub["settings"]["currency"] == "GBP"
    assert sub["settings"]["sources"]["currency"] == group.tenant_id
    assert_problem(again, status=409, code="tenant_slug_taken", field="slug")


def test_list_tenants_pages_through_the_scope(api: Api) -> None:
    # given a group with three brands, and another company
    group = _group(api)
    brands = [
        api.created(
            group, "/v1/tenants", {"parent_id": group.tenant_id, "slug": f"b{i}", "name": f"B{i}"}
        )["id"]
        for i in range(3)
    ]
    other = api.tenant(slug="other", name="Other Co")

    # when the group lists its tenants two at a time
    first = api.ok(group, "/v1/tenants", limit=2)
    second = api.ok(group, "/v1/tenants", limit=2, cursor=first["next_cursor"])
    children = api.ok(group, "/v1/tenants", parent_id=group.tenant_id)

    # then it sees itself and its brands exactly once, ordered by id, and never the other
    seen = [t["id"] for t in first["data"] + second["data"]]
    assert seen == sorted([group.tenant_id, *brands])
    assert len(first["data"]) == 2
    assert second["next_cursor"] is None
    assert sorted(t["id"] for t in children["data"]) == sorted(brands)
    assert api.ok(other, "/v1/tenants")["data"][0]["id"] == other.tenant_id
    assert len(api.ok(other, "/v1/tenants")["data"]) == 1


def test_patch_overrides_then_null_inherits_again(api: Api) -> None:
    # given a brand that overrides the time zone
    group = _group(api)
    brand = _brand(api, group, timezone="Europe/Dublin")
    api.clock.set(api.clock.now().replace(hour=10))

    # when it is renamed and given a prefix, then its time zone is set back to null
    renamed = api.patch(
        group, f"/v1/tenants/{brand['id']}", {"name": "Acme Éire", "invoice_prefix": "IE-"}
    )
    inherited = api.patch(group, f"/v1/tenants/{brand['id']}", {"timezone": None})

    # then the first change shows, and the time zone comes from the group again
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Acme Éire"
    assert renamed.json()["settings"]["invoice_prefix"] == "IE-"
    assert renamed.json()["settings"]["sources"]["invoice_prefix"] == brand["id"]
    assert renamed.json()["updated_at"] == "2026-01-15T10:00:00Z"
    assert inherited.status_code == 200, inherited.text
    body = inherited.json()
    assert body["overrides"]["timezone"] is None
    assert body["overrides"]["invoice_prefix"] == "IE-"
    assert body["settings"]["timezone"] == "Europe/London"
    assert body["settings"]["sources"]["timezone"] == group.tenant_id
    assert body["name"] == "Acme Éire"


def test_the_root_currency_cannot_be_nulled(api: Api) -> None:
    # given a top-level tenant
    group = _group(api)

    # when its currency is set to null
    response = api.patch(group, f"/v1/tenants/{group.tenant_id}", {"currency": None})

    # then it is refused and the currency stays
    assert_problem(response, status=422, code="tenant_currency_required", field="currency")
    assert api.ok(group, f"/v1/tenants/{group.tenant_id}")["settings"]["currency"] == "GBP"


def test_bad_settings_name_their_field(api: Api) -> None:
    # given a group
    group = _group(api)
    path = f"/v1/tenants/{group.tenant_id}"

    # when settings that are not valid are sent
    # then each is refused naming the field
    for body, field in [
        ({"currency": "XXY"}, "currency"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"locale": "zz_ZZ"}, "locale"),
        ({"brand_accent_color": "red"}, "brand_accent_color"),
        ({"line_precision": 9}, "line_precision"),
        ({"invoice_format": "{prefix}{year}"}, "invoice_format"),
        ({"invoice_format": "{seq[0]}"}, "invoice_format"),
        ({"invoice_format": "{seq.real.foo}"}, "invoice_format"),
        ({"slug": "renamed"}, "slug"),
    ]:
        assert_problem(api.patch(group, path, body), status=422, code="invalid_input", field=field)
    assert api.ok(group, path)["overrides"]["timezone"] == "Europe/London"


def test_a_brand_key_sees_its_parent_only_as_inherited(api: Api) -> None:
    # given a brand of a group, with a key of the brand alone
    group = _group(api)
    brand = _brand(api, group)
    brand_key = api.key(brand["id"])

    # when the brand key reads its tenant, and the group's
    own = api.ok(brand_key, f"/v1/tenants/{brand['id']}")
    parent = api.get(brand_key, f"/v1/tenants/{group.tenant_id}")

    # then the group's id does not show, and the group reads as not found
    assert own["parent_id"] is None
    assert own["settings"]["sources"]["currency"] == "inherited"
    assert own["settings"]["currency"] == "GBP"
    assert group.tenant_id not in str(own)
    assert_problem(parent, status=404, code="not_found", field="tenant_id")
