"""The fields a column can be mapped onto, and a guess from the file's headers.

Headers are compared folded ("E-Mail Address" -> "e mail address"), against the names the systems in
../shared/seeds/ use (first_name, last_name, full_name, dob, company_name, labels, custom_field_value,
created_at, created_date …) and the ones spreadsheets and other CRMs write (given name, surname, mobile,
birthday, organisation …)."""

import re

from webapp.errors import Invalid
from webapp.text import strip_accents

FIELDS: dict[str, str] = {
    "ignore": "Ignore this column",
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name (split into first and last)",
    "email": "Email",
    "phone": "Phone",
    "birthday": "Date of birth",
    "company": "Company",
    "address": "Address",
    "notes": "Notes",
    "tags": "Tags (separated by commas)",
    "source": "Source",
    "created_at": "Customer since",
    "custom_field_value": "Custom field",
}
# Fields that may take several columns: their cells are joined (addresses in parts, several notes).
JOINED = {"address": ", ", "notes": "\n", "tags": ","}

SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": (
        "first name",
        "firstname",
        "first",
        "given name",
        "givenname",
        "forename",
        "forenames",
        "christian name",
        "vorname",
        "prenom",
        "nombre",
        "fname",
        "customer first name",
    ),
    "last_name": (
        "last name",
        "lastname",
        "last",
        "surname",
        "family name",
        "familyname",
        "nachname",
        "nom",
        "apellido",
        "apellidos",
        "lname",
        "customer last name",
    ),
    "full_name": (
        "name",
        "full name",
        "fullname",
        "customer name",
        "customer",
        "client",
        "client name",
        "contact",
        "contact name",
        "display name",
        "person",
        "guest",
        "guest name",
    ),
    "email": (
        "email",
        "e mail",
        "email address",
        "e mail address",
        "mail",
        "emailaddress",
        "email 1",
        "primary email",
        "customer email",
        "courriel",
    ),
    "phone": (
        "phone",
        "mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "cell phone",
        "cellphone",
        "telephone",
        "tel",
        "phone number",
        "phonenumber",
        "mobile no",
        "phone 1",
        "primary phone",
        "contact number",
        "handy",
        "telefon",
        "sms",
        "whatsapp",
        "home phone",
        "work phone",
    ),
    "birthday": (
        "dob",
        "date of birth",
        "birthday",
        "birth date",
        "birthdate",
        "born",
        "d o b",
        "geburtstag",
        "geburtsdatum",
        "date de naissance",
    ),
    "company": (
        "company",
        "company name",
        "companyname",
        "organisation",
        "organization",
        "business",
        "employer",
        "firma",
        "org",
    ),
    "address": (
        "address",
        "street",
        "street address",
        "address 1",
        "address line 1",
        "address line 2",
        "address 2",
        "postal address",
        "home address",
        "city",
        "town",
        "postcode",
        "post code",
        "zip",
        "zip code",
        "postal code",
        "country",
        "county",
        "state",
        "region",
        "adresse",
    ),
    "notes": ("notes", "note", "comments", "comment", "remarks", "description", "memo", "bemerkung"),
    "tags": ("tags", "tag", "labels", "label", "groups", "group", "categories", "category", "segments"),
    "source": ("source", "lead source", "referral source", "how did you hear", "channel", "origin"),
    "created_at": (
        "created at",
        "created",
        "created date",
        "date created",
        "creation date",
        "customer since",
        "joined",
        "join date",
        "signup date",
        "sign up date",
        "registered",
        "registration date",
        "first visit",
        "member since",
        "added",
        "date added",
    ),
    "custom_field_value": ("custom field", "custom field value", "custom"),
}
LOOKUP = {name: field for field, names in SYNONYMS.items() for name in names}
NOT_WORD = re.compile(r"[^0-9a-z]+")


def folded_header(header: str) -> str:
    """ "E-Mail_Address " -> "e mail address"; camelCase split ("firstName" -> "first name")."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", header or "")
    return NOT_WORD.sub(" ", strip_accents(spaced)).strip()


def guess_field(header: str) -> str:
    """The field a header most likely holds, "ignore" when none fits."""
    key = folded_header(header)
    if key in LOOKUP:
        return LOOKUP[key]
    squeezed = key.replace(" ", "")
    for name, field in LOOKUP.items():
        if name.replace(" ", "") == squeezed:
            return field
    return "ignore"


def guess_mapping(headers: list[str]) -> dict[int, str]:
    """Every column index -> a FIELDS key. A field that cannot take two columns goes to the first
    column that names it (the others are ignored); first and last name columns win over a full name."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        field = guess_field(header)
        if field != "ignore" and field not in JOINED and field in taken:
            field = "ignore"
        mapping[index] = field
        taken.add(field)
    if {"first_name", "full_name"} <= taken:
        mapping = {i: ("ignore" if f == "full_name" else f) for i, f in mapping.items()}
    return mapping


def check_mapping(mapping: dict, width: int) -> dict[int, str]:
    """The mapping with int column indexes, every one given a known field; raises Invalid on
    "mapping" for an unknown field or column, two columns on one field, no name or no contact."""
    clean: dict[int, str] = {}
    for key, field in (mapping or {}).items():
        try:
            index = int(key)
        except (TypeError, ValueError):
            raise Invalid("mapping", f"There is no column {key!r} in the file.") from None
        if not 0 <= index < width:
            raise Invalid("mapping", f"There is no column {index + 1} in the file.")
        if field not in FIELDS:
            raise Invalid("mapping", f"{field!r} is not a field a column can be imported into.")
        clean[index] = field
    for index in range(width):
        clean.setdefault(index, "ignore")
    seen: dict[str, int] = {}
    for index, field in sorted(clean.items()):
        if field == "ignore" or field in JOINED:
            continue
        if field in seen:
            raise Invalid(
                "mapping",
                f"Columns {seen[field] + 1} and {index + 1} are both mapped to “{FIELDS[field]}”. "
                "Map one of them to another field, or ignore it.",
            )
        seen[field] = index
    if "first_name" in seen and "full_name" in seen:
        raise Invalid(
            "mapping",
            "Map either a full name column or a first name column, not both (ignore one of them).",
        )
    if "first_name" not in seen and "full_name" not in seen:
        raise Invalid("mapping", "Map a column to “First name” or “Full name”: every customer needs a name.")
    if "email" not in seen and "phone" not in seen:
        raise Invalid("mapping", "Map a column to “Email” or “Phone”: every customer needs one of them.")
    return clean
