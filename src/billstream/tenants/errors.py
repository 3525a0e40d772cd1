from enum import StrEnum


class TenantErrorCode(StrEnum):
    SLUG_TAKEN = "tenant_slug_taken"
    CURRENCY_REQUIRED = "tenant_currency_required"
    NOT_A_DESCENDANT = "tenant_not_a_descendant"
