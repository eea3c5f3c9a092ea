"""The interface's translations: every string of the code and templates translated into every
language the shop offers with its format fields (%(name)s, {name}) intact, and the compiled
catalogs in step with the sources."""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation import to_locale

ROOT = Path(settings.BASE_DIR)
TRANSLATED = [to_locale(code) for code, _name in settings.LANGUAGES if code != "en"]
# %(name)s, %s, %d, %%, {name}: what Python fills in, which a translation must keep.
FORMAT_FIELD = re.compile(r"%\([^)]+\)[-+ #0]*\d*[sdfr]|%[sdfr]|%%|\{[A-Za-z_0-9]*\}")


def catalog(locale: str):
    with open(ROOT / "locale" / locale / "LC_MESSAGES" / "django.po", "rb") as po:
        return read_po(po, locale=locale)


def as_key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def format_fields(text: str) -> set[str]:
    return set(FORMAT_FIELD.findall(text))


def test_the_shop_offers_seven_languages():
    assert [code for code, _name in settings.LANGUAGES] == [
        "en",
        "es",
        "fr",
        "de",
        "ru",
        "pl",
        "pt-br",
    ]


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_string_is_translated_with_its_format_fields(locale):
    problems = []
    for message in catalog(locale):
        if not message.id:
            continue  # the header
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        singular, plural = (message.id, message.id) if isinstance(message.id, str) else message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for n, form in enumerate(forms):
            if not form:
                problems.append(f"untranslated: {singular!r}")
                continue
            source = singular if n == 0 and isinstance(message.id, str) else plural
            missing = format_fields(source) - format_fields(form)
            # A singular form may spell out its "one" rather than print the count.
            if isinstance(message.id, tuple) and n == 0:
                missing -= format_fields(plural) - format_fields(singular)
            if missing or format_fields(form) - format_fields(source):
                problems.append(f"format fields differ: {singular!r} → {form!r}")
    assert problems == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_compiled_catalog_is_the_translated_one(locale):
    folder = ROOT / "locale" / locale / "LC_MESSAGES"
    with open(folder / "django.mo", "rb") as mo:
        compiled = {as_key(m.id): as_key(m.string) for m in read_mo(mo) if m.id}
    written = {as_key(m.id): as_key(m.string) for m in catalog(locale) if m.id and not m.fuzzy}
    assert compiled == written, "run `make messages` to compile the catalogs"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (.ci/run)")
def test_the_catalogs_hold_every_string_of_the_code(tmp_path):
    """Extracts the strings afresh (makemessages, on a copy of the project) and looks each
    one up in the catalogs: a string added without `make messages` fails here."""
    copy = tmp_path / "shop"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "var", "media", "staticfiles", "bench", "tests", "__pycache__"
        ),
    )
    shutil.rmtree(copy / "locale")
    (copy / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", "--ignore=static"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"DEBUG": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    with open(copy / "locale/es/LC_MESSAGES/django.po", "rb") as po:
        extracted = {m.id for m in read_po(po) if m.id}
    for locale in TRANSLATED:
        held = {m.id for m in catalog(locale) if m.id}
        assert sorted(map(str, extracted - held)) == [], locale


def test_translation_functions_keep_names_makemessages_extracts():
    """makemessages (xgettext) finds strings by the function's name: `_`, `gettext`,
    `gettext_lazy`, `ngettext`… A string passed to another alias (gettext imported as `_g`,
    say) is translated at run time but never reaches the catalogs, so it stays English."""
    extracted = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy"}
    extracted |= {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}
    renamed = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "tests", "bench", "var", "media", "staticfiles"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                renamed += [
                    f"{path.relative_to(ROOT)}: {alias.name} as {alias.asname}"
                    for alias in node.names
                    if alias.asname and alias.name in extracted and alias.asname not in extracted
                ]
    assert renamed == []
