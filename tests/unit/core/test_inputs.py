"""The input shapes' text rule, and partial changes whose fields are never null."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from billstream.access.schemas import ApiKeyCreate
from billstream.accounts.schemas import AccountCreate, AccountUpdate, NumbersAdd
from billstream.catalog.price_models import PriceModel
from billstream.core.inputs import FROM_TEXT


def test_a_text_is_checked_as_sent_so_a_tab_does_not_hide_a_character_too_many() -> None:
    with pytest.raises(ValidationError) as raised:
        ApiKeyCreate.model_validate({"name": "\t" + "k" * 200})
    assert raised.value.errors()[0]["loc"] == ("name",)
    assert raised.value.errors()[0]["type"] == "string_too_long"


def test_a_text_that_passes_is_stored_trimmed_in_lists_too() -> None:
    assert ApiKeyCreate.model_validate({"name": " \tbilling robot "}).name == "billing robot"
    assert NumbersAdd.model_validate({"numbers": [" +442071234567 "]}).numbers == ["+442071234567"]


def test_a_text_that_must_not_be_empty_must_not_be_only_whitespace() -> None:
    with pytest.raises(ValidationError) as raised:
        ApiKeyCreate.model_validate({"name": " \t "})
    assert raised.value.errors()[0]["loc"] == ("name",)
    assert "must not be blank" in raised.value.errors()[0]["msg"]


@pytest.mark.parametrize(
    "changes",
    [
        {"name": None},
        {"type": None},
        {"payment_terms_days": None},
        {"billing_cycle": None},
        {"invoice_delivery": None},
        {"auto_pay": None},
    ],
)
def test_an_account_update_setting_a_required_field_to_null_is_refused(
    changes: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError) as raised:
        AccountUpdate.model_validate(changes)
    assert raised.value.errors()[0]["loc"] == (next(iter(changes)),)


def test_an_account_update_leaves_out_what_is_not_sent() -> None:
    assert AccountUpdate.model_validate({"auto_pay": True}).model_dump(exclude_unset=True) == {
        "auto_pay": True
    }


def test_the_document_shows_required_account_fields_optional_and_never_null() -> None:
    properties = AccountUpdate.model_json_schema()["properties"]
    assert properties["type"] == {
        "$ref": "#/$defs/AccountType",
        "description": "Left out: unchanged; never null",
    }
    assert properties["name"]["type"] == "string"
    assert "default" not in properties["name"]
    assert "anyOf" in properties["contact_name"]


def test_text_cells_are_read_as_the_values_they_write() -> None:
    # given a CSV row's cells, all text
    cells = {"name": "Acme", "payment_terms_days": "14", "auto_pay": "true"}

    # when validated as text, they are read; as JSON, they are the wrong types
    account = AccountCreate.model_validate(cells, context=FROM_TEXT)
    assert (account.payment_terms_days, account.auto_pay) == (14, True)
    with pytest.raises(ValidationError) as raised:
        AccountCreate.model_validate(cells)
    assert [e["loc"] for e in raised.value.errors()] == [("payment_terms_days",), ("auto_pay",)]


def test_a_price_model_flag_is_a_json_boolean() -> None:
    tiers = [{"up_to": None, "unit_price": "1"}]
    model = {"type": "graduated", "tiers": tiers, "zero_in_first_tier": 1}
    with pytest.raises(ValidationError) as raised:
        TypeAdapter(PriceModel).validate_python(model)
    assert raised.value.errors()[0]["loc"][-1] == "zero_in_first_tier"
