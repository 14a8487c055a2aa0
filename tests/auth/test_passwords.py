"""The password rules (api/auth/passwords.py): NIST SP 800-63B §5.1.1.2, 10 characters."""

import pytest

from api.auth.passwords import MIN_LENGTH, common_passwords, password_problems


@pytest.mark.parametrize("password", ["kata sandi yang panjang", "Kader-posyandu-2026",
                                      "s3cret-Passw0rd", "🐊" * MIN_LENGTH,
                                      "ani-suka-jeruk-bali"])
def test_long_uncommon_passwords_are_accepted(password):
    assert password_problems(password, username="ani") == []


@pytest.mark.parametrize(("password", "rule"), [
    ("a", "Too short: use at least 10 characters"),
    ("Abc-12345", "Too short"),
    ("x" * 1025, "Too long"),
    ("1234567890", "Too common"),
    ("QWERTYUIOP", "Too common"),  # the list is compared case-folded
    ("iloveyou12", "Too common"),
    ("bu.rina.manggar", "Must not be or contain the username"),
    ("BU.RINA.MANGGAR", "Must not be or contain the username"),
    ("2026bu.rina.manggar!", "Must not be or contain the username"),
    ("Lindung2026!", "name of this service"),
    ("banjarbaru-123", "name of this service"),
    ("Password-2026", "the word 'password'"),
])
def test_each_broken_rule_is_named(password, rule):
    problems = password_problems(password, username="bu.rina.manggar")
    assert any(rule in problem for problem in problems), problems


def test_a_short_username_is_refused_only_as_the_whole_password():
    assert password_problems("kata-sandi-bagus-ani", username="ani") == []
    assert "Must not be or contain the username." in password_problems("ANI", username="ani")


def test_every_broken_rule_is_reported_at_once():
    assert len(password_problems("budi", username="budi")) == 2  # too short, is the username


def test_the_common_list_is_the_packaged_one():
    # zxcvbn's 30,000 passwords of the Xato corpus; Indonesian favourites are among them
    assert len(common_passwords()) == 30_000
    assert {"bismillah", "sayangku", "rahasia"} <= common_passwords()
