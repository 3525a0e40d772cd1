from enum import StrEnum


class SubscriptionErrorCode(StrEnum):
    EXTERNAL_ID_TAKEN = "subscription_external_id_taken"
    INVALID_TRANSITION = "subscription_invalid_transition"
    BEFORE_START = "subscription_change_before_start"
    CURRENCY_NOT_BILLED = "subscription_currency_not_billed"
    MISSING_VALUE = "subscription_change_missing_value"
    NOT_OF_ACCOUNT = "subscription_not_of_account"
