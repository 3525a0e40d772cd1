"""The sample provider of the demo: a parent company and three brands, as plain data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class City:
    name: str
    region: str | None
    postcodes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NumberRange:
    """Numbers ``prefix`` + `digits` random digits; `weight` is how often the range is drawn."""

    prefix: str
    digits: int
    weight: int


@dataclass(frozen=True, slots=True)
class TenantSpec:
    slug: str
    name: str
    currency: str
    timezone: str
    locale: str
    invoice_prefix: str
    invoice_format: str | None
    brand_name: str
    brand_address: str
    primary_color: str
    accent_color: str
    footer: str


@dataclass(frozen=True, slots=True)
class BrandSpec:
    """A brand: its tenant, and what its customers' data looks like (country, cities, numbers)."""

    tenant: TenantSpec
    code: str  # prefix of its accounts' external ids
    country: str
    share: int  # percent of the generated accounts
    cities: tuple[City, ...]
    streets: tuple[str, ...]
    company_suffixes: tuple[str, ...]
    contact_numbers: NumberRange
    inventory: tuple[NumberRange, ...]


PARENT = TenantSpec(
    slug="northwind",
    name="Northwind Communications Group",
    currency="USD",
    timezone="America/New_York",
    locale="en_US",
    invoice_prefix="NW-",
    invoice_format=None,
    brand_name="Northwind",
    brand_address="350 Fifth Avenue, New York, NY 10118, United States",
    primary_color="#1f3a5f",
    accent_color="#f2a900",
    footer="Northwind Communications Group - thank you for your business.",
)

US = BrandSpec(
    tenant=TenantSpec(
        slug="northwind-us",
        name="Northwind US",
        currency="USD",
        timezone="America/Chicago",
        locale="en_US",
        invoice_prefix="NWUS-",
        invoice_format="{prefix}{year}-{seq:06d}",
        brand_name="Northwind US Inc.",
        brand_address="233 South Wacker Drive, Chicago, IL 60606, United States",
        primary_color="#0b5394",
        accent_color="#e69138",
        footer="Northwind US Inc. - billing@us.northwind.example",
    ),
    code="US",
    country="US",
    share=45,
    cities=(
        City("Chicago", "IL", ("60601", "60606", "60611", "60614", "60622")),
        City("Evanston", "IL", ("60201", "60202")),
        City("Milwaukee", "WI", ("53202", "53204")),
        City("Minneapolis", "MN", ("55401", "55403")),
    ),
    streets=("W Madison St", "N Michigan Ave", "S State St", "W Lake St", "N Clark St"),
    company_suffixes=("Inc.", "LLC", "Corp."),
    contact_numbers=NumberRange("+1312", 7, 1),
    inventory=(
        NumberRange("+1312", 7, 5),
        NumberRange("+1773", 7, 3),
        NumberRange("+1800", 7, 1),
    ),
)

UK = BrandSpec(
    tenant=TenantSpec(
        slug="northwind-uk",
        name="Northwind UK",
        currency="GBP",
        timezone="Europe/London",
        locale="en_GB",
        invoice_prefix="NWUK",
        invoice_format="{prefix}/{year}/{seq:05d}",
        brand_name="Northwind UK Ltd",
        brand_address="1 Poultry, London EC2R 8EJ, United Kingdom",
        primary_color="#4a235a",
        accent_color="#1abc9c",
        footer="Northwind UK Ltd, registered in England and Wales.",
    ),
    code="UK",
    country="GB",
    share=35,
    cities=(
        City("London", None, ("EC1A 1BB", "EC2R 8EJ", "SE1 9GF", "W1D 3QF", "N1 9GU")),
        City("Manchester", None, ("M1 1AE", "M2 5DB", "M3 3EB")),
        City("Leeds", "West Yorkshire", ("LS1 4DY", "LS2 7EW")),
    ),
    streets=("High Street", "Station Road", "Church Lane", "King Street", "Victoria Road"),
    company_suffixes=("Ltd", "plc", "LLP"),
    contact_numbers=NumberRange("+44207946", 4, 1),
    inventory=(
        NumberRange("+44207946", 4, 4),  # Ofcom's London range for drama
        NumberRange("+44161496", 4, 3),  # and Manchester's
        NumberRange("+448081570", 3, 1),  # freephone
    ),
)

SG = BrandSpec(
    tenant=TenantSpec(
        slug="northwind-sg",
        name="Northwind Singapore",
        currency="SGD",
        timezone="Asia/Singapore",
        locale="en_SG",
        invoice_prefix="NWSG-",
        invoice_format="{prefix}{seq:07d}",
        brand_name="Northwind Singapore Pte. Ltd.",
        brand_address="1 Raffles Place, Singapore 048616",
        primary_color="#c0392b",
        accent_color="#2c3e50",
        footer="Northwind Singapore Pte. Ltd. - GST Reg. No. M90000000X",
    ),
    code="SG",
    country="SG",
    share=20,
    cities=(City("Singapore", None, ("048616", "018989", "238859", "059818", "179103")),),
    streets=("Raffles Place", "Orchard Road", "Robinson Road", "Cecil Street", "Anson Road"),
    company_suffixes=("Pte. Ltd.",),
    contact_numbers=NumberRange("+656", 7, 1),
    inventory=(
        NumberRange("+656", 7, 4),
        NumberRange("+658", 7, 3),
        NumberRange("+651800", 7, 1),
    ),
)

BRANDS = (US, UK, SG)

COMPANY_WORDS = (
    ("Apex", "Blue", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Juniper"),
    ("Logistics", "Dental", "Legal", "Media", "Foods", "Clinics", "Studios", "Freight", "Labs"),
)
DEPARTMENTS = ("Sales", "Support", "Finance", "Engineering", "Marketing", "Operations", "Legal")
TEAMS = ("Tier1", "Tier2", "Inbound", "Outbound", "North", "South", "Night shift")
VENDORS = ("Carrier", "Telecom", "Networks", "Voice")
FIRST_NAMES = ("Alex", "Sam", "Priya", "Wei", "Maria", "Tom", "Aisha", "Kenji", "Olivia", "Noah")
LAST_NAMES = ("Tan", "Smith", "Patel", "Garcia", "Okafor", "Lee", "Brown", "Novak", "Khan")
