"""The password rules, applied wherever a password is set (service.create_user: the command
line `lindung users create --password`, and any API that sets one).

NIST SP 800-63B §5.1.1.2 (memorized secrets) asks for at least 8 characters, a check against
passwords known from breaches and common use and against context-specific words (the service,
the username), and no composition rules ("one digit, one capital"). Lindung asks for 10: here a
password is the only factor on accounts that open children's case files, and each character
multiplies the work of guessing a stolen hash. The 2025 revision (SP 800-63B-4 §3.1.1.2) asks
15 for a password used alone; 10 stays typeable on a phone at a posyandu, with the breach list
and the login limits (auth/limits.py) doing the rest. Length counts Unicode code points,
spaces included.
"""

import unicodedata
from functools import cache

MIN_LENGTH = 10
MAX_LENGTH = 1024  # argon2 hashes any length; the login accepts no more (schemas.LoginSchema)

# context-specific words (NIST SP 800-63B §5.1.1.2): this service, its cities, the words
# for "password", refused alone or with only digits and signs around them
CONTEXT_WORDS = frozenset({"lindung", "balikpapan", "banjarmasin", "banjarbaru", "kalimantan",
                           "indonesia", "dp3akb", "uptdppa", "password", "katasandi",
                           "sandi", "rahasia"})


def password_problems(password: str, *, username: str) -> list[str]:
    """What is wrong with PASSWORD for the account USERNAME (normalised), one message per rule
    broken; empty when it may be set."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Too short: use at least {MIN_LENGTH} characters "
                        f"(a few words with spaces make a good one).")
    if len(password) > MAX_LENGTH:
        problems.append(f"Too long: use at most {MAX_LENGTH} characters.")
    folded = _folded(password)
    if username and (folded == username or (len(username) >= 4 and username in folded)):
        problems.append("Must not be or contain the username.")
    if folded in common_passwords():
        problems.append("Too common: it is on a list of passwords known from data breaches; "
                        "choose another.")
    elif "".join(filter(str.isalpha, folded)) in CONTEXT_WORDS:
        problems.append("Must not be the name of this service, of a city, or the word "
                        "'password', with only digits or signs added.")
    return problems


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of breached password sets (zxcvbn's "passwords"
    frequency list, from the Xato 10-million-password corpus; MIT licence), lower-case."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _folded(text: str) -> str:
    # NFKC then case folding: the way a person would still call it "the same password"
    return unicodedata.normalize("NFKC", text).casefold()
