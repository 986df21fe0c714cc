"""Password hashing with argon2id (OWASP parameters; cheaper ones only in tests) and the password policy."""

import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 8  # ASVS 5.0 V6.2.1
RECOMMENDED_LENGTH = 15  # ASVS 5.0 V6.2.9 (and the hint on every form that sets one)
MAX_LENGTH = 256
LENGTH_HINT = (
    f"At least {MIN_LENGTH} characters; {RECOMMENDED_LENGTH} or more is better. "
    "A short sentence is easy to remember."
)


def _params() -> tuple[int, int, int]:
    c = current_app.config
    return c["ARGON2_TIME_COST"], c["ARGON2_MEMORY_COST"], c["ARGON2_PARALLELISM"]


@cache
def _hasher_for(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def _hasher() -> PasswordHasher:
    return _hasher_for(*_params())


def normalized(password: str) -> str:
    """The password as it is hashed and compared: Unicode NFKC (ASVS: any characters, one spelling)."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (normalized)."""
    return _hasher().hash(normalized(password))


def _verify_one(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a wrong or malformed hash. Hashes made before
    passwords were normalized are tried with the password as typed too (only when that differs)."""
    if _verify_one(password_hash, normalized(password)):
        return True
    return normalized(password) != password and _verify_one(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)


@cache
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    # Made once per process and parameter set: a missing account then costs one verification, as a
    # present one does (hashing it per request doubled the time and showed who has an account).
    return _hasher_for(time_cost, memory_cost, parallelism).hash("not-a-real-password")


def warm_dummy_hash() -> None:
    """Make this process's dummy hash now (at start-up) rather than on the first missing account."""
    _dummy_hash(*_params())


def dummy_verify(password: str) -> None:
    """Spend the time a real verification of `password` would (the same argon2 calls)."""
    verify_password(_dummy_hash(*_params()), password)


def _is_blank(password: str) -> bool:
    """Only spaces and invisible format characters (zero-width spaces, joiners, direction marks)."""
    return all(c.isspace() or unicodedata.category(c) in ("Cf", "Zs", "Zl", "Zp", "Cc") for c in password)


def _too_guessable(password: str, inputs: list[str]) -> bool:
    """In zxcvbn's offline lists of common and breached passwords, or guessed within a million tries
    (repeats, sequences, keyboard runs, a dictionary word with digits, the user's own details)."""
    from zxcvbn import zxcvbn  # imported here: its frequency lists take a moment to load

    return zxcvbn(password[:72], user_inputs=inputs)["score"] < 2  # its limit: 72 characters


def password_problem(password: str, email: str = "", *, current: str | None = None) -> str | None:
    """Why `password` cannot be used (ASVS 5.0: length, a common-password list, no composition rules),
    or None. `current` is the password it replaces, which cannot be chosen again."""
    password = normalized(password)
    if _is_blank(password):
        return "Use letters, numbers or symbols, not only spaces."
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters ({RECOMMENDED_LENGTH} or more is better)."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    email = email.strip().lower()
    if email and password.strip().lower() in (email, email.split("@")[0]):
        return "Do not use your email address as your password."
    if current is not None and password == normalized(current):
        return "Choose a password different from your current one."
    if _too_guessable(password, [email, email.split("@")[0]] if email else []):
        return "That password is too common or easy to guess. Try a few unrelated words."
    return None
