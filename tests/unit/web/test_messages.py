"""The interface's texts (web/frontend/src/messages/*.js) are complete in both languages (issue 15): every
key of one language is in the other with the same {placeholders}, a plural has every form the language's
plural rules pick for a whole number, no file takes another's key (i18n.js merges them, the last would
win silently), and no text is empty. Node reads the files as the bundle does, as ES modules."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

MESSAGES = Path(__file__).resolve().parents[3] / "web" / "frontend" / "src" / "messages"
PLURAL = re.compile(r"^(?P<base>.+)\.(zero|one|two|few|many|other)$")
PLACEHOLDER = re.compile(r"\{(\w+)\}")

# The plural forms each language's rules pick for 0..199 (the counts a step list shows), per Intl.
DUMP = """
const files = JSON.parse(process.argv[1]);
const out = {files: {}, plurals: {}};
for (const [name, path] of Object.entries(files)) {
  const module = await import(path);
  out.files[name] = {ru: module.ru, en: module.en};
}
for (const lang of ['ru', 'en']) {
  const rules = new Intl.PluralRules(lang);
  out.plurals[lang] = [...new Set(Array.from({length: 200}, (_, n) => rules.select(n)))].sort();
}
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def messages() -> dict:
    node = shutil.which("node")
    assert node, "node is needed to read the front end's messages (make setup installs it)"
    files = {path.stem: path.as_uri() for path in sorted(MESSAGES.glob("*.js"))}
    assert files, MESSAGES
    result = subprocess.run([node, "--input-type=module", "-e", DUMP, json.dumps(files)],
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


def plain_keys(keys) -> set[str]:
    return {PLURAL.sub(r"\g<base>.#", key) for key in keys}


def test_both_languages_have_the_same_keys_in_every_file(messages):
    for name, languages in messages["files"].items():
        ru, en = plain_keys(languages["ru"]), plain_keys(languages["en"])
        assert ru - en == set(), f"{name}.js: only in Russian"
        assert en - ru == set(), f"{name}.js: only in English"


def test_the_same_placeholders_in_both_languages(messages):
    for name, languages in messages["files"].items():
        def placeholders(language: str) -> dict[str, set[str]]:
            found: dict[str, set[str]] = {}
            for key, text in languages[language].items():
                found.setdefault(PLURAL.sub(r"\g<base>.#", key), set()).update(PLACEHOLDER.findall(text))
            return found
        ru, en = placeholders("ru"), placeholders("en")
        differ = {key: (ru[key], en.get(key)) for key in ru if ru[key] != en.get(key)}
        assert differ == {}, f"{name}.js: placeholders differ (ru, en)"


def test_every_plural_has_each_form_its_language_uses(messages):
    for name, languages in messages["files"].items():
        for language, texts in languages.items():
            forms: dict[str, set[str]] = {}
            for key in texts:
                if match := PLURAL.match(key):
                    forms.setdefault(match["base"], set()).add(key.rsplit(".", 1)[1])
            needed = set(messages["plurals"][language])
            missing = {base: sorted(needed - have) for base, have in forms.items() if needed - have}
            assert missing == {}, f"{name}.js ({language}): plural forms missing"


def test_no_file_takes_another_files_key_and_no_text_is_empty(messages):
    owner: dict[str, str] = {}
    for name, languages in messages["files"].items():
        for key, text in languages["ru"].items():
            assert key not in owner, f"{key} is in both {owner.get(key)}.js and {name}.js"
            owner[key] = name
        for language, texts in languages.items():
            empty = [key for key, text in texts.items() if not isinstance(text, str) or not text.strip()]
            assert empty == [], f"{name}.js ({language}): empty texts"


def test_the_check_sees_a_missing_translation():
    """The first check compares what it should: a key only in Russian is caught."""
    ru, en = plain_keys({"a.b", "n.one", "n.few"}), plain_keys({"n.other"})
    assert ru - en == {"a.b"}
