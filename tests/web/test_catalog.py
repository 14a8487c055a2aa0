"""The English catalog: every Indonesian text of the web app translated, and the committed
.mo compiled from the .po (nothing is compiled at run time)."""

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

WEB = Path(__file__).parents[2] / "api" / "web"
CATALOG = WEB / "translations" / "en" / "LC_MESSAGES"
# as api/web/babel.cfg extracts them
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "N_": None}


def _messages(catalog) -> dict[str, str]:
    return {message.id: message.string for message in catalog if message.id}


def test_every_text_of_the_web_app_has_an_english_translation():
    with (CATALOG / "messages.po").open("rb") as po:
        english = _messages(read_po(po))
    texts = {message for _, _, message, _, _ in
             extract_from_dir(str(WEB), method_map=METHODS, keywords=KEYWORDS)}
    assert texts - set(english) == set()
    assert [text for text, translation in english.items() if not translation] == []


def test_the_committed_mo_is_compiled_from_the_po():
    with (CATALOG / "messages.po").open("rb") as po, (CATALOG / "messages.mo").open("rb") as mo:
        assert _messages(read_mo(mo)) == _messages(read_po(po))
