"""GET …/in-force over HTTP: the rating and tax rules in force for a tenant on a day, with the
tenant that set each; a key scoped to a brand sees its parent's as "inherited"."""

from __future__ import annotations

from tests.e2e.conftest import Api, Caller, assert_problem

IN_FORCE = (
    "/v1/rating/rules/in-force",
    "/v1/rating/tiers/in-force",
    "/v1/rating/margin-rules/in-force",
    "/v1/tax-rates/in-force",
)


def _family(api: Api) -> tuple[Caller, Caller, Caller]:
    """A parent (its key reaches its brands), a brand, and a key scoped to the brand alone."""
    parent = api.tenant(currency="GBP", timezone="Europe/London")
    brand = api.tenant(parent=parent.tenant_id, descendants=False)
    return parent, brand, api.key(brand.tenant_id)


def _configure(api: Api, parent: Caller, brand: Caller) -> None:
    """The parent's rules from Jan 1 (rounding replaced from Jun 1), the brand's own tiers."""
    rule = {"first_s": 60, "next_s": 30, "free_below_s": 30}
    api.created(parent, "/v1/rating/rules", {**rule, "effective_from": "2026-01-01"})
    api.created(parent, "/v1/rating/rules", {"first_s": 1, "next_s": 1,
                                              "effective_from": "2026-06-01"})  # fmt: skip
    tiers = [{"from_quantity": 0, "rate": "0.05"}]
    api.created(brand, "/v1/rating/tiers", {"usage_type": "voice", "tiers": tiers,
                                            "effective_from": "2026-03-01"})  # fmt: skip
    api.created(parent, "/v1/rating/margin-rules", {"percent": "12.5", "prefix": "44",
                                                    "effective_from": "2026-01-01"})  # fmt: skip
    api.created(parent, "/v1/tax-rates", {"jurisdiction": "GB", "name": "VAT", "rate": "20",
                                          "effective_from": "2026-01-01"})  # fmt: skip


def test_the_parent_sees_which_tenant_set_each_rule_in_force_for_its_brand(api: Api) -> None:
    # given a parent's rules and a brand's own tiers
    parent, brand, _ = _family(api)
    _configure(api, parent, brand)
    asked = {"tenant_id": brand.tenant_id, "on": "2026-04-15"}

    # when the parent's key asks what is in force for the brand on Apr 15
    [rule] = api.ok(parent, "/v1/rating/rules/in-force", **asked)["data"]
    [tiers] = api.ok(parent, "/v1/rating/tiers/in-force", **asked)["data"]
    [margin] = api.ok(parent, "/v1/rating/margin-rules/in-force", **asked)["data"]
    [tax] = api.ok(parent, "/v1/tax-rates/in-force", **asked)["data"]

    # then each names its owner and window (London midnights; BST from Mar 29)
    assert (rule["usage_type"], rule["first_s"], rule["next_s"], rule["source"]) == (
        None, 60, 30, parent.tenant_id
    )  # fmt: skip
    assert (rule["effective_from"], rule["valid_to"]) == (
        "2026-01-01T00:00:00Z", "2026-05-31T23:00:00Z"
    )  # fmt: skip
    assert (tiers["usage_type"], tiers["source"], tiers["valid_to"]) == (
        "voice", brand.tenant_id, None
    )  # fmt: skip
    assert tiers["tiers"] == [{"from_quantity": 0, "rate_micros": 50_000}]
    assert (margin["prefix"], margin["percent"], margin["source"]) == (
        "44",
        "12.5",
        parent.tenant_id,
    )
    assert (tax["jurisdiction"], tax["rate"], tax["source"]) == ("GB", "20", parent.tenant_id)
    assert (tax["effective_from"], tax["valid_to"]) == ("2026-01-01", None)

    # and from Jun 1 the replacing rule is in force, open-ended
    [june] = api.ok(parent, "/v1/rating/rules/in-force", tenant_id=brand.tenant_id,
                    on="2026-06-01")["data"]  # fmt: skip
    assert (june["first_s"], june["effective_from"], june["valid_to"]) == (
        1, "2026-05-31T23:00:00Z", None
    )  # fmt: skip


def test_a_key_scoped_to_the_brand_sees_its_parents_rules_as_inherited(api: Api) -> None:
    # given a parent's rules and a brand's own tiers
    parent, brand, brand_only = _family(api)
    _configure(api, parent, brand)

    # when the brand's own key asks (its tenant by default)
    sources = {
        path: [item["source"] for item in api.ok(brand_only, path, on="2026-04-15")["data"]]
        for path in IN_FORCE
    }

    # then the parent is never named, its own tiers are
    assert sources == {
        "/v1/rating/rules/in-force": ["inherited"],
        "/v1/rating/tiers/in-force": [brand.tenant_id],
        "/v1/rating/margin-rules/in-force": ["inherited"],
        "/v1/tax-rates/in-force": ["inherited"],
    }
    # and it cannot ask about its parent: not found
    for path in IN_FORCE:
        assert_problem(api.get(brand_only, path, tenant_id=parent.tenant_id), status=404,
                       code="not_found", field="tenant_id")  # fmt: skip
    # a day that is not a date is refused
    assert api.get(brand_only, IN_FORCE[0], on="15/04/2026").status_code == 422
