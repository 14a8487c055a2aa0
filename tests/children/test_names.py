"""Whether two written names are one child's name (children/names.py)."""

import pytest
from rapidfuzz import fuzz

from api.children.names import (
    NAME_KEY_LENGTH,
    SAME_NAME_THRESHOLD,
    name_key,
    same_name,
    search_key,
)


def test_two_spaces_are_one():
    assert name_key("Siti  Nurhaliza") == name_key(" Siti Nurhaliza\t") == "siti nurhaliza"


def test_accented_capitals_match_on_every_database():
    # SQLite's lower() folds ASCII only: the key must need no folding in SQL at all
    key = name_key("ÉLISE WULANDARI")
    assert key == name_key("Élise Wulandari") == name_key("Elise Wulandari") == "elise wulandari"
    assert key.isascii() and key == key.lower()


@pytest.mark.parametrize("written", ["Siti-Nurhaliza", "Siti.Nurhaliza", "Siti, Nurhaliza",
                                     "Siti_Nurhaliza", "SITI (Nurhaliza)"])
def test_punctuation_is_a_space(written):
    assert name_key(written) == "siti nurhaliza"


@pytest.mark.parametrize("written", ["Ma'ruf", "Ma’ruf", "Ma`ruf", "Maruf"])
def test_an_apostrophe_joins_the_word_as_the_registry_writes_it(written):
    assert name_key(written) == "maruf"


@pytest.mark.parametrize(("old", "today"), [
    ("Soekarno", "Sukarno"),            # oe → u (Soewandi 1947)
    ("Djoko Tjahjono", "Joko Cahyono"),  # dj → j, tj → c; j → y in an old-spelled word
    ("Soerjadi", "Suryadi"),
    ("Kartawidjaja", "Kartawijaya"),
    ("Soenjoto", "Sunyoto"),            # nj → ny
    ("Pandji", "Panji"),                # the old ndj and today's nj meet
    ("Sjahrir", "Syahrir"),             # sj → sy
    ("Chairul Anwar", "Khairul Anwar"),  # ch → kh
])
def test_old_spelling_is_todays(old, today):
    assert name_key(old) == name_key(today)


@pytest.mark.parametrize("muhammad", ["Muhammad", "Muhamad", "Muhammed", "Mohamad", "Mohammad",
                                      "Mohammed", "Mochammad", "Moehammad", "Moh.", "Muh",
                                      "Mhd.", "M.", "M", "Moch."])
def test_every_spelling_of_muhammad_is_one(muhammad):
    assert name_key(f"{muhammad} Rizki") == "muhammad rizki"


def test_m_is_muhammad_only_in_front_of_another_name():
    assert name_key("Rizki M.") == "rizki m"
    assert name_key("M") == "m"


@pytest.mark.parametrize("nur", ["Nur Aini", "Noor Aini", "Nour Aini", "Noer Aini"])
def test_every_spelling_of_nur_is_one(nur):
    assert name_key(nur) == "nur aini"


@pytest.mark.parametrize(("a", "b"), [("Noordin", "Nurdin"), ("Achmad", "Ahmad"),
                                      ("Rizky", "Rizki"), ("Hendry", "Hendri"),
                                      ("Fatimah", "Fatima"), ("Aminah", "Amina")])
def test_common_variants_share_a_key(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize("name", ["Siti  Nurhaliza", "ÉLISE WULANDARI", "Djoko Tjahjono",
                                  "M. Rizki", "Noor Aini", "Rizky", "Fatimah", "Soenjoto",
                                  "Kartawidjaja", "Ma'ruf Amin", "Straße", "ﬁtri"])
def test_a_key_is_its_own_key(name):
    # stored keys can be recomputed from stored keys, and searched with search_key
    assert name_key(name_key(name)) == name_key(name)


def test_a_key_fits_the_column():
    # ß folds to ss: a name that fills String(120) can grow past it
    assert len(name_key("ß" * 120)) == NAME_KEY_LENGTH


def test_a_name_of_punctuation_has_an_empty_key():
    assert name_key(" .,-' ") == ""


# (search text, stored name): name_key(stored) LIKE '%' || search_key(text) || '%'
FOUND = [
    ("siti  nur", "Siti Nurhaliza"),
    ("élise", "ELISE WULANDARI"),
    ("ELISE", "Élise Wulandari"),
    ("Soekarno", "Sukarno Putra"),
    ("Sukarno", "Soekarno"),
    ("Mohammad Riz", "M. Rizki"),
    ("Noor", "Nur Aini"),
    ("Rizky", "Rizki Pratama"),
    ("Fatimah", "Fatima Azzahra"),
    # the last word may be unfinished
    ("Sury", "Suryadi"),
    ("Wahy", "Wahyu Hidayat"),
    ("Rah", "Rahmat"),
    ("Muh", "Muhlis"),
    ("Muh", "Muhammad Rizki"),
    ("Pandj", "Panji Saputra"),
]


@pytest.mark.parametrize(("text", "stored"), FOUND)
def test_search_finds_every_spelling(text, stored):
    assert search_key(text) in name_key(stored)


def test_search_key_holds_no_like_wildcard():
    assert not set(search_key(r"50% _off\ x")) & set("%_\\")


# pairs a caseworker would take for one child's name
LIKELY_DUPLICATES = [
    ("Siti Nurhaliza", "Siti  Nurhaliza"),
    ("Siti Nurhaliza", "SITI NURHALIZA"),
    ("Élise Wulandari", "ÉLISE WULANDARI"),
    ("Elise Wulandari", "Élise Wulandari"),
    ("Siti-Nurhaliza", "Siti Nurhaliza"),
    ("Siti Nur Haliza", "Siti Nurhaliza"),   # a word split or joined
    ("Nurhaliza Siti", "Siti Nurhaliza"),    # given names in another order
    ("M. Rizki", "Muhammad Rizki"),
    ("Mochammad Rizky", "Muhamad Rizki"),
    ("Noor Aini", "Nur Aini"),
    ("Soekarno", "Sukarno"),
    ("Djoko Tjahjono", "Joko Cahyono"),
    ("Ma'ruf Amin", "Maruf Amin"),
    ("Wulandari", "Wulandary"),
    ("Elise Wulandari", "Elise Wulamdari"),  # one typo in a 9-letter word
    ("Setiawati", "Setyawati"),
    ("Anggraini", "Anggraeni"),
    ("Hasanudin", "Hasanuddin"),             # a doubled letter
    ("Shinta Dewi", "Sinta Dewi"),           # one letter more in a 5-letter word
    ("Putri", "Puteri"),
    ("Putri Amina", "Putri Aminah"),
]

# close, but two children's names
DIFFERENT_NAMES = [
    ("Siti Aminah", "Siti Aisyah"),
    ("Budi", "Rudi"),                        # one letter in a short word is another name
    ("Muhammad Budi", "Muhammad Rudi"),
    ("Rina", "Rini"),
    ("Dian", "Diana"),
    ("Dina", "Diana"),
    ("Rina", "Riana"),
    ("Andi", "Andri"),
    ("Putri", "Putra"),
    ("Dewi Lestari", "Dewi Lestiani"),       # two letters apart
    ("Haryanto", "Maryanto"),                # one letter in an 8-letter word
    ("Hartanto", "Haryanto"),
    ("Wahyudi", "Wahyuni"),
    ("Wijayanto", "Wijayanti"),              # the ending carries the sex, however long
    ("Supriyadi", "Supriyani"),
    ("Kurniawan", "Kurniawati"),
    ("Hidayat", "Hidayah"),
    ("Rizki", "Rizka"),
    ("Siti Nurhaliza", "Nurhaliza"),         # a missing word
    ("Rizki M.", "Muhammad Rizki"),
    ("", ""),
    ("...", "-"),
]


@pytest.mark.parametrize(("a", "b"), LIKELY_DUPLICATES)
def test_likely_duplicates(a, b):
    assert same_name(a, b)
    assert same_name(b, a)


@pytest.mark.parametrize(("a", "b"), DIFFERENT_NAMES)
def test_different_names(a, b):
    assert not same_name(a, b)
    assert not same_name(b, a)


def test_threshold_lies_between_the_closest_pairs():
    # one substituted letter: 88.9 in a 9-letter word must pass, 87.5 in an 8-letter one not
    assert fuzz.ratio("hartanto", "haryanto") < SAME_NAME_THRESHOLD
    assert fuzz.ratio("haryanto", "maryanto") < SAME_NAME_THRESHOLD
    assert fuzz.ratio("wulandari", "wulamdari") >= SAME_NAME_THRESHOLD
    assert fuzz.ratio("setiawati", "setyawati") >= SAME_NAME_THRESHOLD
