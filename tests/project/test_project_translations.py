"""The Portuguese (Brazil) and Spanish catalogues are complete, exact and compiled.

Every string marked in the code must be translated in both catalogues: the test runs
`makemessages` over a copy of the project and compares its msgids with the committed catalogues,
so a new string without its translations fails here. An empty or fuzzy entry fails too, as does
a compiled catalogue (.mo, committed so installs need no gettext tools) that lags its .po.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import missing

ROOT = Path(settings.BASE_DIR)
LANGUAGES = {
    "pt_BR": "Plural-Forms: nplurals=2; plural=(n > 1);",
    "es": "Plural-Forms: nplurals=2; plural=(n != 1);",
}
# The folders makemessages skips (README "Translations" gives the same command).
IGNORED = (".venv", "tests", "bench")
NOT_COPIED = {
    *IGNORED,
    ".git",
    "locale",
    "staticfiles",
    "media",
    "sent_emails",
    "test-artifacts",
    "__pycache__",
    ".hypothesis",
    ".import_linter_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "db.sqlite3",
}


def _gettext_tools() -> None:
    for tool in ("xgettext", "msgfmt", "msgen", "msgattrib"):
        if shutil.which(tool) is None:
            missing("REQUIRE_SERVICES", f"the gettext tools are not installed ({tool})")


def _catalogue(language: str, root: Path = ROOT) -> Path:
    return root / "locale" / language / "LC_MESSAGES" / "django.po"


def _compiled(po: Path, mo: Path) -> dict[object, str]:
    """The catalogue as gettext reads it: translated, non-fuzzy entries only."""
    subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], check=True)
    return _read_mo(mo)


def _read_mo(mo: Path) -> dict[object, str]:
    with mo.open("rb") as handle:
        catalog = dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]
    catalog.pop("", None)  # the header
    return catalog


def _msgids(catalog: dict[object, str]) -> set[str]:
    """msgids (with "context\\x04" in front when they have one), plural forms folded."""
    return {key[0] if isinstance(key, tuple) else key for key in catalog}  # type: ignore[misc]


@pytest.fixture(scope="module")
def code_msgids(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every msgid marked in the code today: makemessages run over a copy of the project."""
    _gettext_tools()
    copy = tmp_path_factory.mktemp("project") / "hub"
    shutil.copytree(ROOT, copy, ignore=lambda _dir, names: [n for n in names if n in NOT_COPIED])
    (copy / "locale" / "pt_BR" / "LC_MESSAGES").mkdir(parents=True)
    env = {**os.environ, "DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    command = [sys.executable, "manage.py", "makemessages", "-l", "pt_BR", "--no-obsolete"]
    command += ["-e", "html,txt,py", *(f"--ignore={folder}" for folder in IGNORED)]
    subprocess.run(command, cwd=copy, env=env, check=True, capture_output=True)
    fresh = _catalogue("pt_BR", copy)
    english = fresh.with_name("en.po")
    subprocess.run(["msgen", "-o", str(english), str(fresh)], check=True)  # msgstr = msgid
    return _msgids(_compiled(english, english.with_suffix(".mo")))


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_string_in_the_code_is_translated(language, code_msgids, tmp_path):
    translated = _msgids(_compiled(_catalogue(language), tmp_path / "django.mo"))
    untranslated = sorted(code_msgids - translated)
    assert not untranslated, (
        f"{len(untranslated)} string(s) of the code have no {language} translation (missing, "
        f"empty or fuzzy in locale/{language}); refresh with makemessages (README "
        f"'Translations') and translate them:\n" + "\n".join(untranslated[:40])
    )


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_no_entry_is_left_over_from_removed_code(language, code_msgids, tmp_path):
    translated = _msgids(_compiled(_catalogue(language), tmp_path / "django.mo"))
    stale = sorted(translated - code_msgids)
    assert not stale, f"locale/{language} holds strings the code no longer has:\n" + "\n".join(
        stale[:40]
    )


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_no_entry_is_empty_or_fuzzy(language):
    _gettext_tools()
    po = _catalogue(language)
    for flag in ("--untranslated", "--only-fuzzy"):
        left = subprocess.run(
            ["msgattrib", flag, "--no-obsolete", str(po)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        # msgattrib prints nothing when no entry has the flag (else the header and the entries).
        assert not left.strip(), f"locale/{language} has {flag[2:]} entries:\n{left}"


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_plural_forms_and_language_header(language):
    header = _catalogue(language).read_text(encoding="utf-8")[:2000]
    assert LANGUAGES[language] in header
    assert f"Language: {language}\\n" in header


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_committed_compiled_catalogue_matches_its_source(language, tmp_path):
    """The .mo is committed (installs need no gettext tools): it must say what the .po says."""
    _gettext_tools()
    mo = _catalogue(language).with_suffix(".mo")
    assert mo.exists(), f"run `python manage.py compilemessages` and commit {mo.relative_to(ROOT)}"
    assert _read_mo(mo) == _compiled(_catalogue(language), tmp_path / "django.mo"), (
        f"{mo.relative_to(ROOT)} is older than its .po: run `python manage.py compilemessages`"
    )
