"""Keys for spotting duplicates: folded names, nicknames, canonical email and phone, typo distance."""

import re

from rapidfuzz.distance import OSA

from webapp.text import fold_compact as fold  # a key without spaces: "zoeobrienng"

# Each group of names that are the same person; the first is the canonical form.
NICKNAME_GROUPS = (
    ("robert", "bob", "bobby", "rob", "robbie", "bert"),
    ("william", "bill", "billy", "will", "willy", "liam"),
    ("elizabeth", "liz", "lizzie", "beth", "betty", "eliza", "libby", "elisabeth"),
    ("katherine", "kate", "katie", "kathy", "catherine", "cathy", "kat", "kathryn", "katharine"),
    ("james", "jim", "jimmy", "jamie"),
    ("michael", "mike", "mick", "mickey", "mikey"),
    ("thomas", "tom", "tommy"),
    ("richard", "dick", "rick", "ricky", "rich", "richie"),
    ("alexander", "alex", "alec", "sandy", "xander"),
    ("alexandra", "alex", "lexi", "sasha"),
    ("samuel", "sam", "sammy"),
    ("samantha", "sam", "sammie"),
    ("jennifer", "jenny", "jen", "jenn"),
    ("christopher", "chris", "kit", "topher"),
    ("christine", "chris", "christina", "tina", "chrissie"),
    ("margaret", "maggie", "meg", "peggy", "marge", "margo"),
    ("edward", "ed", "eddie", "ted", "teddy", "ned"),
    ("anthony", "tony"),
    ("daniel", "dan", "danny"),
    ("joseph", "joe", "joey"),
    ("benjamin", "ben", "benny"),
    ("matthew", "matt"),
    ("andrew", "andy", "drew"),
    ("nicholas", "nick", "nicky"),
    ("jonathan", "jon", "jonny"),
    ("john", "jack", "johnny"),
    ("patricia", "pat", "patty", "trish"),
    ("susan", "sue", "susie", "suzanne"),
    ("deborah", "debbie", "deb", "debra"),
    ("rebecca", "becky", "becca"),
    ("victoria", "vicky", "tori"),
    ("charles", "charlie", "chuck"),
    ("david", "dave", "davey"),
    ("steven", "steve", "stephen", "stevie"),
    ("abigail", "abby", "abbie"),
    ("jessica", "jess", "jessie"),
    ("isabella", "bella", "izzy", "isabel"),
    ("gregory", "greg"),
    ("timothy", "tim", "timmy"),
    ("peter", "pete"),
    ("frederick", "fred", "freddie"),
    ("henry", "harry", "hank"),
)
NICKNAMES: dict[str, str] = {}
for group in NICKNAME_GROUPS:
    for name in group:
        NICKNAMES.setdefault(name, group[0])  # "alex", "sam", "chris" go to the first group listed


def canonical_first(first_name: str | None) -> str:
    """The folded first name with nicknames mapped to one form (Bob -> robert)."""
    words = re.split(r"[\s\-]+", (first_name or "").strip())
    head = fold(words[0]) if words else ""
    return NICKNAMES.get(head, head)


def phone_key(phone: str | None) -> str | None:
    """The last 9 digits, so the same number typed with or without a country code matches."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-9:] if len(digits) >= 7 else None


def email_key(email: str | None) -> str | None:
    """The mailbox an address delivers to: no +tag; Gmail ignores dots and googlemail.com."""
    email = (email or "").strip().lower()
    if "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local else None


def damerau_levenshtein(a: str, b: str, limit: int = 3) -> int:
    """Edits (insert, delete, substitute, swap neighbours) from a to b; stops counting at `limit`."""
    # rapidfuzz's optimal string alignment: the restricted Damerau-Levenshtein this always counted.
    return min(OSA.distance(a, b, score_cutoff=limit), limit)


def name_distance(first_a, last_a, first_b, last_b) -> int:
    """Typos between two people's names, nicknames and accents and case forgiven."""
    firsts = damerau_levenshtein(canonical_first(first_a), canonical_first(first_b))
    lasts = damerau_levenshtein(fold(last_a), fold(last_b))
    return firsts + lasts


def keys_for(first_name, last_name, email, phone, date_of_birth) -> dict:
    """Every match key of one customer (None where the data is missing)."""
    first, last = canonical_first(first_name), fold(last_name)
    dob = date_of_birth.isoformat() if date_of_birth else None
    return {
        "phone_key": phone_key(phone),
        "email_key": email_key(email),
        "last_dob_key": f"{last}|{dob}"[:120] if last and dob else None,
        "first_dob_key": f"{first}|{dob}"[:120] if first and dob else None,
        "name_key": f"{first}|{last}"[:255] if first and last and not dob else None,
    }
