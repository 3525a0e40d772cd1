from enum import StrEnum


class CatalogErrorCode(StrEnum):
    INVALID_FILE = "catalog_invalid_file"
    UNKNOWN_PRODUCT = "catalog_unknown_product"
    UNKNOWN_PLAN = "catalog_unknown_plan"
    UNKNOWN_CHARGE = "catalog_unknown_charge"
    UNKNOWN_BRAND = "catalog_unknown_brand"
    UNKNOWN_ACCOUNT = "catalog_unknown_account"
    CURRENCY_NOT_BILLED = "catalog_currency_not_billed"
    VERSION_CLASH = "catalog_price_version_clash"
    NOT_SELLABLE = "catalog_not_sellable"
    NO_PRICE = "catalog_no_price"
    UNBILLABLE_PRICE = "catalog_unbillable_price"
