"""How a query can match: its tiers (exact phone, exact email, phone prefix, name, last name, email,
company, contains), each one index range, ranked best first, with the values it binds."""

import re
from dataclasses import dataclass
from functools import lru_cache

from phonenumbers import PhoneMetadata

from webapp.text import TOP, fold, fold_fragment

# A trigram index can only narrow a contains-match through three letters or digits in a row
# (pg_trgm splits on everything else): a fragment like "@@@" or "a.b" alone would scan every row.
RUNS = re.compile(r"[^\W_]{3,}")
PHONE_LIKE = re.compile(r"[\d\s\-+().\/]+")
# Ranks, best first.
EXACT_PHONE, EXACT_EMAIL, PHONE_PREFIX, NAME, LAST_NAME, EMAIL, COMPANY, CONTAINS = range(8)
NAME_OR_CONTAINS = -1  # NAME when the typed words start name words in order, else CONTAINS


@dataclass(frozen=True)
class Tier:
    """One way `q` can match, as an index range: a rank (best first), the key it reads, how, and the
    values typed. Tiers carry values, not SQL, so the statement for a query's *shape* is built once and
    reused with new values (see `statements.ranked_statement`): building and caching SQLAlchemy statements
    would otherwise cost more than running them.

    `how`: "=" the key equals values[0]; "^" the key starts with values[0]; "^~" starts with values[0]
    and is LIKE values[1] (words in typed order); "contains" every fragment in `values` occurs in
    search_text (the trigram index); "words" ranks NAME when search_name or search_name_rev is LIKE
    values[0] / values[1], else CONTAINS, among customers containing every fragment in values[2:]."""

    rank: int
    key: str | None
    how: str
    values: tuple
    # "contains" only: words too short for the trigram index (under 3 letters), each of which must start
    # a word of search_text, checked on the rows the fragments in `values` narrowed to: every word counts.
    starts: tuple = ()

    def binds(self, dialect: str) -> list:
        """The values to bind, in the order `tier_part` numbers its parameters."""
        if self.how == "^":
            return [self.values[0], self.values[0] + TOP]
        if self.how == "^~":
            return [self.values[0], self.values[0] + TOP, self.values[1]]
        if self.how == "contains":
            return contains_binds(self.values, dialect) + starts_binds(self.starts)
        if self.how == "words":
            return [*self.values[:2], *contains_binds(self.values[2:], dialect)]
        return list(self.values)


def like_escape(value: str) -> str:
    """`value` with LIKE's wildcards escaped (escape character: backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def words_pattern(words: list[str]) -> str:
    """A LIKE pattern: each word starts a word of the key, in this order ("jo smi" ~ "john smith")."""
    return " ".join(like_escape(w) + "%" for w in words)


def contains_binds(fragments, dialect: str) -> list[str]:
    """SQLite: one FTS5 query of quoted trigram strings; PostgreSQL: one LIKE pattern per fragment."""
    if dialect == "sqlite":
        return [" ".join('"' + f.replace('"', '""') + '"' for f in fragments)]
    return [f"%{like_escape(f)}%" for f in fragments]


def starts_binds(words) -> list[str]:
    """Two LIKE patterns per short word: it starts search_text, or a word after a space in it."""
    return [p for w in words for p in (like_escape(w) + "%", "% " + like_escape(w) + "%")]


def name_words_tier(words: list[str]) -> Tier:
    """Words that each start a name word, in typed order ("jo smi", "maria gar"), first-last or last-first.

    With every word 3+ letters long the trigram index finds the rows holding all of them, and a CASE
    ranks true name matches above mere contains-matches; with a shorter word, the longest word's range
    on the name keys is scanned instead (index-only, filtered in the index)."""
    first, last, rest = words[0], words[-1], words[:-1]
    if all(len(w) >= 3 for w in words):
        patterns = (words_pattern(words), words_pattern([last, *rest]))
        return Tier(NAME_OR_CONTAINS, None, "words", (*patterns, *words))
    if len(last) >= len(first):
        return Tier(NAME, "search_name_rev", "^~", (last, words_pattern([last, *rest])))
    return Tier(NAME, "search_name", "^~", (first, words_pattern(words)))


@lru_cache(maxsize=256)
def trunk_prefix(region: str) -> str | None:
    """What callers in `region` dial before a national number: "0" in GB or AU, "1" in the US, None
    in Italy, whose numbers keep their leading 0 (phonenumbers' metadata)."""
    metadata = PhoneMetadata.metadata_for_region(region)
    return metadata.national_prefix if metadata else None


ANCHORED_FROM = 6  # digits typed after a trunk 0 from which they are a number's start, not its end


def narrowable(fragment: str) -> bool:
    """True when a trigram index can narrow a contains-match on `fragment`: three letters or digits in
    a row (pg_trgm splits on everything else), and not one trigram repeated at length ("000000" would
    read every customer holding "000", to find next to none)."""
    runs = RUNS.findall(fragment)
    return any(len(run) <= 4 or len({run[i : i + 3] for i in range(len(run) - 2)}) > 1 for run in runs)


def phone_tiers(q: str, digits: str, region: str) -> list[Tier]:
    """Phone digits in any format, read the way the business's `region` dials.

    * "+61 412 345" or "0061 412 345": an international number, from its start (the E.164 `phone`).
      Never a contains-match: `search_text` holds national digits, without the country code.
    * "0412 345 678" where the region dials a trunk 0 (the UK, Australia): the national number
      "412345678" from its start, or the digits as typed, for a foreign number that keeps its 0
      (Italy's "06 …"). Six digits or more after a trunk 0 are a number's start, so no contains-match.
    * anything else ("412 345", "5678", Italy's "06 1234", the US "1234"): from the start of the
      national number, or anywhere inside it (a number's end or middle).
    """
    start = q.lstrip()
    if start.startswith("+") or (start.startswith("00") and digits[2:3] not in ("", "0")):
        full = "+" + (digits[2:] if start.startswith("00") else digits)
        return [Tier(EXACT_PHONE, "phone", "=", (full,)), Tier(PHONE_PREFIX, "phone", "^", (full,))]
    trunk = trunk_prefix(region) == "0" and digits.startswith("0") and len(digits) > 1
    forms = [digits[1:], digits] if trunk else [digits]
    out = [Tier(EXACT_PHONE, "search_phone", "=", (form,)) for form in forms]
    out += [Tier(PHONE_PREFIX, "search_phone", "^", (form,)) for form in forms]
    if not (trunk and len(digits) - 1 >= ANCHORED_FROM) and narrowable(digits):
        out.append(Tier(CONTAINS, None, "contains", (digits,)))
    return out


def tiers(q: str, region: str = "GB") -> list[Tier]:
    """Every way `q` can match, best first; each is one index range (or one trigram lookup). Phone
    digits are read the way `region` (the business's) dials them."""
    digits = re.sub(r"\D", "", q)
    if PHONE_LIKE.fullmatch(q) and len(digits) >= 3:
        return phone_tiers(q, digits, region)
    out = []
    lowered = q.strip().lower()
    if "@" in lowered and " " not in lowered:
        out.append(Tier(EXACT_EMAIL, "email_normalized", "=", (lowered,)))
    words = fold(q).split()
    if words:
        phrase = " ".join(words)
        out.append(Tier(NAME, "search_name", "^", (phrase,)))
        out.append(Tier(LAST_NAME, "search_name_rev", "^", (phrase,)))
        if len(words) > 1:
            out.append(name_words_tier(words))
        out.append(Tier(COMPANY, "search_company", "^", (phrase,)))
    if lowered and " " not in lowered and "@" not in lowered[:1]:
        out.append(Tier(EMAIL, "email_normalized", "^", (lowered,)))
    if any(t.how == "words" for t in out):
        # Every folded word lies inside one of the contains-fragments (they only keep more punctuation),
        # so whatever those would find, the words tier has already found and ranked.
        return out
    fragments, starts = [], []
    for typed in q.split():
        fragment = fold_fragment(typed)
        if len(fragment) >= 3:
            fragments.append(fragment)
        else:  # too short to narrow through trigrams: it must start a word of the row instead
            starts.extend(w for w in fold(typed).split() if w not in starts)
    if any(narrowable(f) for f in fragments):
        out.append(Tier(CONTAINS, None, "contains", tuple(fragments), tuple(starts)))
    return out
