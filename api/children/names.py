"""Whether two written names are one child's name: the comparison key, and likely duplicates."""

import re
import unicodedata

from rapidfuzz import fuzz

# the column children.name_key is String(120), like children.name
NAME_KEY_LENGTH = 120

# Words are fuzzy-compared only from this length: one letter in a shorter word makes another
# name (test_different_names: Budi/Rudi, Rina/Riana, Dina/Diana), while a 5-letter word may
# gain one (test_likely_duplicates: Sinta/Shinta, Putri/Puteri).
FUZZY_WORD_MIN_LENGTH = 5

# fuzz.ratio (Indel similarity, 0-100) two words of a name must reach. One substituted letter
# scores 100 * (1 - 1/length): 87.5 in an 8-letter word, 88.9 in a 9-letter one; one inserted
# or dropped letter scores at least 90.9 from 5 letters. 88 lets a 9-letter word carry one
# typo (test_likely_duplicates: Wulandari/Wulamdari, Setiawati/Setyawati) while 8-letter
# names one letter apart stay two names (test_different_names: Haryanto/Maryanto,
# Hartanto/Haryanto); test_threshold_lies_between_the_closest_pairs pins both sides.
SAME_NAME_THRESHOLD = 88.0

# An apostrophe marks a glottal stop inside one word (Ma'ruf, Nur'aini); the civil registry
# writes names without punctuation (Permendagri 73/2022 art. 5), so Ma'ruf is recorded as
# Maruf: the apostrophe joins, where a space would split the word in two.
_APOSTROPHES = str.maketrans("", "", "'`´‘’ʼʻ＇｀")
_NOT_LETTER = re.compile(r"[\W_]+")

# oe, dj and tj never occur in the 1972 spelling, so a word holding one is in the old spelling,
# where a j on its own (not in dj, tj, nj, sj) is the y of today: Soerjadi = Suryadi.
_OLD_SPELLING = re.compile(r"oe|dj|tj")
_OLD_J = re.compile(r"(?<![dtns])j")
# dj → j comes before nj → ny: today's nj (Panji) must meet the old ndj (Pandji), so both
# become ny, as does the old nj (Soenjoto = Sunyoto).
_OLD_TO_NEW = (("oe", "u"), ("dj", "j"), ("tj", "c"), ("nj", "ny"), ("sj", "sy"), ("ch", "kh"))

_MUHAMMAD = "muhammad"
_MUHAMMAD_SPELLINGS = {
    "muhamad", "muhammed", "muhamed", "mohamad", "mohammad", "mohammed", "mohamed",
    "mukhammad", "mukhamad", "mokhammad", "mokhamad",
}
# M., Moh., Mhd. … stand for Muhammad only in front of the given name (M. Rizki); a lone or
# trailing M is an initial like any other.
_MUHAMMAD_ABBREVIATIONS = {"m", "moh", "mohd", "muh", "mhd", "mokh", "mukh"}
_OTHER_SPELLINGS = {"akhmad": "ahmad"}
_NUR = re.compile(r"^no[ou]r")
# Rizky/Rizki, Hendry/Hendri: a final y after a consonant is a way of writing i.
_FINAL_Y = re.compile(r"(?<=[b-df-hj-np-tv-z])y$")
# Fatimah/Fatima, Aminah/Amina: the Arabic final tā marbūṭa is written with and without h.
_FINAL_H = re.compile(r"(?<=[aeiou])h$")


def name_key(name: str) -> str:
    """The form in which two spellings of one name are equal, stored in children.name_key.

    Rules, in order:
    1. apostrophes dropped, Unicode NFKC, str.casefold();
    2. diacritics dropped (NFKD, combining marks removed): the civil registry writes names in
       Latin letters by Indonesian spelling, which has none (Permendagri 73/2022 art. 5), so
       one child's name reaches us both with and without them (Élise / ELISE);
    3. every other non-letter, non-digit is a space; runs of spaces are one; ends stripped;
    4. per word, the old spellings become today's: oe → u (Soewandi 1947); dj → j, tj → c,
       nj → ny, sj → sy, ch → kh, and j → y in a word that shows oe, dj or tj (EYD 1972);
    5. per word, one form for common variants: Muhammad (Muhamad, Mohammad, Mohammed,
       Mochammad …; M, Moh, Muh, Mhd as the first of several words), Nur (Noor, Nour, Noer,
       also as a prefix: Noordin), Ahmad (Achmad, Akhmad);
    6. per word, a final consonant + y becomes i, a final vowel + h drops the h.

    Computed in Python so SQLite (whose lower() folds only ASCII) and PostgreSQL compare alike.
    """
    words = _words(name)
    return _joined(
        _word_key(word, leads=index == 0 and len(words) > 1) for index, word in enumerate(words)
    )


def search_key(query: str) -> str:
    """What a search text becomes so that name_key LIKE '%' || search_key || '%' finds it.

    The same rules as name_key, except that the last word may be unfinished (Sury… for
    Suryadi): a final y or h is dropped rather than rewritten, so the key stays a prefix of
    the stored word. The key holds no LIKE wildcard (% or _) and no backslash.
    """
    words = _words(query)
    last = len(words) - 1
    return _joined(
        _word_key(word, leads=index == 0 and len(words) > 1, complete=index != last)
        for index, word in enumerate(words)
    )


def same_name(a: str, b: str) -> bool:
    """Whether a caseworker would take names A and B for one child's name.

    Same when their keys are equal once spaces are ignored (Nur Haliza / Nurhaliza), or when
    they have as many words, paired in written or in alphabetical order (Nurhaliza Siti), and
    each pair is equal or a likely typo of a long word (see _likely_typo).
    """
    words_a, words_b = name_key(a).split(), name_key(b).split()
    if not words_a or not words_b:
        return False
    if "".join(words_a) == "".join(words_b):
        return True
    if len(words_a) != len(words_b):
        return False
    return _words_alike(words_a, words_b) or _words_alike(sorted(words_a), sorted(words_b))


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text.translate(_APOSTROPHES)).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _NOT_LETTER.sub(" ", unicodedata.normalize("NFC", text)).split()


def _word_key(word: str, *, leads: bool, complete: bool = True) -> str:
    word = _modern_spelling(word)
    if word in _MUHAMMAD_SPELLINGS or (leads and word in _MUHAMMAD_ABBREVIATIONS):
        return _MUHAMMAD
    word = _NUR.sub("nur", _OTHER_SPELLINGS.get(word, word))
    word = _FINAL_Y.sub("i" if complete else "", word)
    return _FINAL_H.sub("", word)


def _modern_spelling(word: str) -> str:
    if _OLD_SPELLING.search(word):
        word = _OLD_J.sub("y", word)
    for old, new in _OLD_TO_NEW:
        word = word.replace(old, new)
    return word


def _joined(words) -> str:
    return " ".join(words)[:NAME_KEY_LENGTH].rstrip()


def _words_alike(words_a: list[str], words_b: list[str]) -> bool:
    return all(
        a == b or _likely_typo(a, b) for a, b in zip(words_a, words_b, strict=True)
    )


def _likely_typo(a: str, b: str) -> bool:
    # The last two letters carry sex and identity in Indonesian names (Putra/Putri,
    # Wijayanto/Wijayanti, Supriyadi/Supriyani, Hidayat/Hidayah): a difference there is a
    # different name, however long the word.
    return (
        min(len(a), len(b)) >= FUZZY_WORD_MIN_LENGTH
        and a[-2:] == b[-2:]
        and fuzz.ratio(a, b) >= SAME_NAME_THRESHOLD
    )
