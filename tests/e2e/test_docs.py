"""Every example of README.md and docs/ runs, in order, and shows what it prints.

Each page runs in a directory of its own on a fresh, migrated SQLite database, or, where the
page says `<!-- docs-test: after the demo -->`, on a copy of a small demo's (60 accounts,
5,000 CDRs, run once per session). The conventions are in tests/e2e/doc_examples.py. A
failure names the page, the line of the block, the command and what it printed.

What it costs: about 50 s on the 2-core machine, 20 s of it the small demo.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tests.e2e.doc_examples import DocError, Page, Shell, problems, read_page, run_page, shows
from typer.testing import CliRunner

from billstream.cli import app

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SMALL_DEMO = ("--accounts", "60", "--cdrs", "5000", "--pdfs", "2", "--seed", "7")


def _outside_settings() -> list[str]:
    """The caller's own BILLSTREAM_* variables (a database, SMTP…), kept out of the pages."""
    return [name for name in os.environ if name.startswith("BILLSTREAM_")] + ["FORCE_COLOR"]


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _prepared(base: Path, *commands: tuple[str, ...]) -> Path:
    """A data directory in `base` after `commands` (each a `billstream` command)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(base)
        for name in _outside_settings():
            patch.delenv(name, raising=False)
        env = {"BILLSTREAM_DATA_DIR": str(base / "var"), "NO_COLOR": "1"}
        for args in commands:
            result = CliRunner().invoke(app, list(args), env=env)
            assert result.exit_code == 0, result.output
    return base / "var"


@pytest.fixture(scope="session")
def fresh_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _prepared(tmp_path_factory.mktemp("docs-fresh"), ("db", "upgrade"))


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("docs-demo")
    return _prepared(base, ("db", "upgrade"), ("demo", *SMALL_DEMO))


def _shell(page: Page, workdir: Path, fresh: Path, demo: Path | None) -> Shell:
    shutil.copytree(demo if page.after_the_demo and demo else fresh, workdir / "var")
    env = {"BILLSTREAM_DATA_DIR": str(workdir / "var"), "NO_COLOR": "1"}
    return Shell(workdir=workdir, env=env)


@pytest.mark.parametrize("path", PAGES, ids=_page_id)
def test_every_block_is_run_or_marked_with_a_reason(path: Path) -> None:
    # given a page, when its blocks are read, then each is run or says why not
    assert problems(read_page(path)) == []


@pytest.mark.parametrize("path", PAGES, ids=_page_id)
def test_the_examples_of_a_page_run_and_show_what_they_print(
    path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_data: Path,
    request: pytest.FixtureRequest,
) -> None:
    # given the page on a fresh database (or after the demo, where it says so)
    page = read_page(path)
    if not any(block.kind in ("console", "script") for block in page.blocks):
        pytest.skip("no runnable example on this page")
    demo = request.getfixturevalue("demo_data") if page.after_the_demo else None
    monkeypatch.chdir(tmp_path)
    for name in _outside_settings():
        monkeypatch.delenv(name, raising=False)
    shell = _shell(page, tmp_path, fresh_data, demo)

    # when its commands run in order, then each succeeds and prints what the page shows
    try:
        assert run_page(page, shell) > 0
    finally:
        shell.close()


@pytest.mark.parametrize(
    ("shown", "printed", "expected"),
    [
        ("error: currency: 'XYZ'", "error: currency: 'XYZ'  \n", True),
        ("token bsk_…", "token bsk_key_1_abc", True),
        ('{"data": [ … ], "n": 1}', '{"data": [ 1,\n 2 ], "n": 1}', True),
        ("created 3", "created 4", False),
        ("a\nb", "a", False),
    ],
)
def test_shown_output_is_compared_with_elisions(shown: str, printed: str, expected: bool) -> None:
    assert shows(shown, printed) is expected


PAGE = """\
# A page

<!-- not run: a synopsis -->
```sh
billstream usage import FILE
```

<!-- not run: -->
```text
nothing
```

<!-- file: plans.yaml -->

Text between a marker and its block cancels the marker.

```yaml
a: 1
```

- in a list:

  ```console
  $ billstream tenant list
  ```
"""


def test_a_block_is_marked_right_above_it_and_a_reason_is_required(tmp_path: Path) -> None:
    # given a page with a marked block, a marker without a reason and a stray marker
    page_path = tmp_path / "page.md"
    page_path.write_text(PAGE, encoding="utf-8")

    # when it is read
    page = read_page(page_path)

    # then each block has its kind, and the two wrong ones are named by their line
    assert [(block.line, block.kind) for block in page.blocks] == [
        (4, "skip"),
        (9, "skip"),
        (17, "unmarked"),
        (23, "console"),
    ]
    assert page.blocks[3].text == "$ billstream tenant list\n"
    assert problems(page) == [
        "page.md:9: <!-- not run: … --> without a value",
        "page.md:17: a ```yaml block that is neither run nor marked "
        "(<!-- file: NAME --> or <!-- not run: REASON -->)",
    ]


def test_a_command_the_shell_does_not_know_asks_for_a_marker(tmp_path: Path) -> None:
    shell = Shell(workdir=tmp_path, env={})
    with pytest.raises(DocError, match="not run"):
        shell.run("make demo")
    with pytest.raises(DocError, match=r"\$TOKEN is not set"):
        shell.run('curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/v1/tenants')
