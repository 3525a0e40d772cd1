"""The machinery behind tests/e2e/test_docs.py: the fenced blocks of a markdown page, and a
tiny shell that runs them in-process.

The conventions a page follows (they are HTML comments, so they do not show when rendered):

- ```` ```console ````: lines starting with `$ ` are commands (a line ending with `\\`
  continues on the next); the lines after a command, up to the next one, are its output as
  shown, compared with the real output (stdout and stderr, trailing spaces ignored). `…` in
  the shown output stands for any text (ids, tokens, timings). A command shown without
  output is run and not compared. A command may fail (a non-zero exit, an HTTP status of 400
  or more) only where its shown output says `error` or shows the status.
- ```` ```sh ```` (or `bash`, `shell`): every line is a command; each must succeed.
- `<!-- file: NAME -->` right above a block: the block is a file the page's commands read
  (a command must name it, or its stem); it is written to the working directory under NAME
  (a relative path) before any command of the page runs.
- `<!-- not run: REASON -->` right above a block: the block is not run (a synopsis, a
  request body, a command the test cannot run here). The reason is required.
- `<!-- docs-test: after the demo -->` anywhere on the page: the page runs on a copy of a
  small `billstream demo` (the text says "after `make demo`"); else on a fresh database.

Every block is one of these; any other is an error, so a new example cannot go untested by
accident.

The shell knows `billstream …` (run with Typer's runner), `billstream serve &` (the app,
served to later `curl`s through a test client), `curl` (`-s`, `-S`, `-i`, `-X`, `-H`, `-d` /
`--data` / `--data-binary` / `--data-raw`, `-F`, `@file`, `@-`), `jq [-r] PATH` (paths like
`.data[0].id`), `jq -Rs '{NAME: .}' FILE` (a file as a JSON string), pipes (`|`),
`NAME=value`, `export NAME=value`, `NAME=$(command)`, `$NAME` and `${NAME}` outside single
quotes, and `#` comments. Anything else is an error that asks for a `not run` marker.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from billstream.app import create_app
from billstream.bootstrap import Runtime, bootstrap
from billstream.cli import app

ELISION = "…"
MARK = re.compile(r"<!--\s*(file|not run|docs-test)\s*:\s*(.*?)\s*-->")
FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)(.*)$")  # also indented, in a list
SHELLS = {"sh", "bash", "shell"}
AFTER_THE_DEMO = "after the demo"


class DocError(AssertionError):
    """A page's example that does not run, or does not show what it does."""


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: where it starts, its language, text and markers."""

    page: Path
    line: int
    info: str
    text: str
    marks: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"

    @property
    def kind(self) -> str:
        """`skip`, `file`, `console` or `script`; `unmarked` for a block that is none."""
        if "not run" in self.marks:
            return "skip"
        if "file" in self.marks:
            return "file"
        if self.info == "console":
            return "console"
        if self.info in SHELLS:
            return "script"
        return "unmarked"


@dataclass(frozen=True)
class Page:
    path: Path
    blocks: list[Block]
    after_the_demo: bool


def read_page(path: Path) -> Page:
    """The fenced blocks of a markdown page, each with the markers right above it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    pending: dict[str, str] = {}
    after_demo = False
    i = 0
    while i < len(lines):
        line = lines[i]
        for name, value in MARK.findall(line):
            if name == "docs-test":
                after_demo = after_demo or value == AFTER_THE_DEMO
            else:
                pending[name] = value
        fence = FENCE.match(line)
        if fence is None:
            if line.strip() and not MARK.search(line):
                pending = {}  # a marker counts only right above its block
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        if end is None:
            raise DocError(f"{path.name}:{i + 1}: a fenced block that is never closed")
        indent = len(fence.group(1))
        text = "\n".join(body[indent:] for body in lines[i + 1 : end]) + "\n"
        found.append(Block(path, i + 1, fence.group(2), text, pending))
        pending = {}
        i = end + 1
    return Page(path, found, after_demo)


def problems(page: Page) -> list[str]:
    """Blocks that are neither run nor marked, markers without a reason or a name, and files
    that no command of the page names (by their name or, for a format, their stem)."""
    wrong = []
    run = " ".join(b.text for b in page.blocks if b.kind in ("console", "script"))
    for block in page.blocks:
        name = block.marks.get("file")
        if (
            block.kind == "file"
            and name
            and not re.search(rf"\b{re.escape(Path(name).stem)}\b", run)
        ):
            wrong.append(f"{block.where}: no command of the page uses the file {name}")
        if name and (Path(name).is_absolute() or ".." in Path(name).parts):
            wrong.append(f"{block.where}: {name} is not a path inside the working directory")
        if block.kind == "unmarked":
            wrong.append(
                f"{block.where}: a ```{block.info} block that is neither run nor marked "
                "(<!-- file: NAME --> or <!-- not run: REASON -->)"
            )
        for name in ("not run", "file"):
            if name in block.marks and not block.marks[name]:
                wrong.append(f"{block.where}: <!-- {name}: … --> without a value")
    return wrong


# --- comparing what is shown with what is printed -------------------------------------


def _normalised(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip("\n")


def shows(shown: str, actual: str) -> bool:
    """Whether `actual` is what `shown` shows, `…` standing for any text."""
    parts = _normalised(shown).split(ELISION)
    pattern = ".*?".join(re.escape(part) for part in parts)
    return re.fullmatch(pattern, _normalised(actual), re.DOTALL) is not None


# --- the shell --------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a command printed (`output`: all of it; `stdout`: what a pipe gets) and whether
    it succeeded."""

    output: str
    stdout: str
    ok: bool


@dataclass
class Shell:
    """Runs a page's commands in `workdir` with `env`; `$NAME` reads `variables`."""

    workdir: Path
    env: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    server: TestClient | None = None
    server_base: str = ""
    runtime: Runtime | None = None
    runner: CliRunner = field(default_factory=CliRunner)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        if self.runtime is not None:
            self.runtime.close()

    def run(self, command: str) -> Outcome:
        """One command line (continuations already joined)."""
        assignment = re.fullmatch(r"(export\s+)?([A-Za-z_]\w*)=(.*)", command.strip(), re.DOTALL)
        if assignment:
            return self._assign(assignment.group(2), assignment.group(3), bool(assignment.group(1)))
        words = self._split(command)
        if not words:
            return Outcome("", "", ok=True)
        if words[-1] == "&":
            return self._background(words[:-1])
        stages = _stages(words)
        stdin = ""
        outcome = Outcome("", "", ok=True)
        for stage in stages:
            outcome = self._one(stage, stdin)
            if not outcome.ok:
                return outcome
            stdin = outcome.stdout
        return outcome

    def _assign(self, name: str, value: str, export: bool) -> Outcome:
        substitution = re.fullmatch(r"\$\((.*)\)", value.strip(), re.DOTALL)
        if substitution:
            outcome = self.run(substitution.group(1))
            if not outcome.ok:
                return outcome
            self.variables[name] = outcome.stdout.strip("\n")
        else:
            words = self._split(value)
            self.variables[name] = " ".join(words)
        if export or name.startswith("BILLSTREAM_"):
            self.env[name] = self.variables[name]
        return Outcome("", "", ok=True)

    def _split(self, command: str) -> list[str]:
        lexer = shlex.shlex(self._expand(command), posix=True, punctuation_chars="|&")
        lexer.whitespace_split = True
        return list(lexer)

    def _expand(self, command: str) -> str:
        """`$NAME` and `${NAME}` outside single quotes; an unset name is an error."""
        out: list[str] = []
        quoted = False
        i = 0
        while i < len(command):
            char = command[i]
            if char == "'":
                quoted = not quoted
            variable = None if quoted else re.match(r"\$(\w+)|\$\{(\w+)\}", command[i:])
            if variable is None:
                out.append(char)
                i += 1
                continue
            name = variable.group(1) or variable.group(2)
            if name not in self.variables:
                raise DocError(f"${name} is not set by an earlier command of the page")
            out.append(self.variables[name])
            i += variable.end()
        return "".join(out)

    def _one(self, words: list[str], stdin: str) -> Outcome:
        program, args = words[0], words[1:]
        if program == "billstream":
            if args[:1] == ["serve"]:
                raise DocError("`billstream serve` would block: run it in the background (`&`)")
            result = self.runner.invoke(app, args, env=self.env, input=stdin or None)
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise result.exception
            return Outcome(result.output, result.stdout, ok=result.exit_code == 0)
        if program == "curl":
            return self._curl(args, stdin)
        if program == "jq":
            return _jq(args, stdin, self.workdir)
        raise DocError(
            f"the docs test cannot run `{program}`: mark the block <!-- not run: REASON -->"
        )

    def _background(self, words: list[str]) -> Outcome:
        if words[:2] != ["billstream", "serve"]:
            raise DocError(f"only `billstream serve` may run in the background, not {words}")
        options = dict(zip(words[2::2], words[3::2], strict=False))
        host, port = options.get("--host", "127.0.0.1"), options.get("--port", "8000")
        self.close()  # a second `serve &` replaces the first
        self.runtime = bootstrap(_settings(self.env))
        self.server_base = f"http://{host}:{port}"
        self.server = TestClient(create_app(self.runtime), base_url=self.server_base)
        return Outcome("", "", ok=True)

    def _curl(self, args: list[str], stdin: str) -> Outcome:
        request = _curl_request(args, self.workdir, stdin)
        if self.server is None or not request.url.startswith(self.server_base + "/"):
            raise DocError(f"curl {request.url}: no `billstream serve &` answers there")
        response = self.server.request(
            request.method,
            request.url,
            headers=request.headers,
            content=request.body,
            files=request.files or None,
            data=request.form or None,
        )
        body = response.text
        if request.include_headers:
            head = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
            head += [f"{name}: {value}" for name, value in response.headers.items()]
            body = "\n".join(head) + "\n\n" + body
        return Outcome(body, body, ok=response.status_code < 400)


def _settings(env: dict[str, str]) -> Any:
    from billstream.settings import Settings

    prefix = "BILLSTREAM_"
    values = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
    return Settings(**values)


def _stages(words: list[str]) -> list[list[str]]:
    stages: list[list[str]] = [[]]
    for word in words:
        if word == "|":
            stages.append([])
        else:
            stages[-1].append(word)
    return stages


@dataclass
class CurlRequest:
    method: str = ""
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    include_headers: bool = False


def _curl_request(args: list[str], workdir: Path, stdin: str) -> CurlRequest:
    request = CurlRequest()
    words = iter(args)
    for word in words:
        if word in ("-s", "-S", "-sS", "--silent", "--show-error"):
            continue
        if word in ("-i", "--include"):
            request.include_headers = True
        elif word in ("-X", "--request"):
            request.method = next(words)
        elif word in ("-H", "--header"):
            name, _, value = next(words).partition(":")
            request.headers[name.strip()] = value.strip()
        elif word in ("-d", "--data", "--data-binary", "--data-raw"):
            data = next(words)
            if word == "--data-raw" or not data.startswith("@"):
                request.body = data.encode()
            else:
                request.body = stdin.encode() if data == "@-" else (workdir / data[1:]).read_bytes()
        elif word in ("-F", "--form"):
            name, _, value = next(words).partition("=")
            if value.startswith("@"):
                request.files[name] = (value[1:], (workdir / value[1:]).read_bytes())
            else:
                request.form[name] = value
        elif word.startswith(("http://", "https://")):
            request.url = word
        else:
            raise DocError(f"curl option {word!r} is not one the docs test knows")
    if not request.method:
        request.method = "POST" if request.body or request.form or request.files else "GET"
    return request


def _jq(args: list[str], stdin: str, workdir: Path) -> Outcome:
    """`jq [-r] PATH` over JSON, or `jq -Rs '{NAME: .}' [FILE]`: a text as a JSON string."""
    flags = "".join(arg[1:] for arg in args if arg.startswith("-"))
    program, *files = [arg for arg in args if not arg.startswith("-")] or ["."]
    text_in = "".join((workdir / name).read_text(encoding="utf-8") for name in files) or stdin
    wrapped = re.fullmatch(r"\{\s*(\w+)\s*:\s*\.\s*\}", program)
    if "R" in flags and "s" in flags and wrapped:
        text = json.dumps({wrapped.group(1): text_in})
        return Outcome(text + "\n", text + "\n", ok=True)
    value: Any = json.loads(text_in)
    for name, index in re.findall(r"\.(\w+)|\[(\d+)\]", program):
        value = value[int(index)] if index else value[name]
    text = value if "r" in flags and isinstance(value, str) else json.dumps(value, indent=2)
    return Outcome(text + "\n", text + "\n", ok=True)


# --- running a page ---------------------------------------------------------------------


def commands(block: Block) -> Iterator[tuple[str, str | None]]:
    """Each command of a block with its shown output (None: not shown, or a script)."""
    lines = block.text.splitlines()
    if block.kind == "script":
        yield from ((command, None) for command in _joined(lines))
        return
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise DocError(f"{block.where}: output before any `$ ` command: {lines[i]!r}")
        command_lines = [lines[i][2:]]
        i += 1
        while command_lines[-1].endswith("\\") and i < len(lines):
            command_lines.append(lines[i].removeprefix("> "))
            i += 1
        shown: list[str] = []
        while i < len(lines) and not lines[i].startswith("$ "):
            shown.append(lines[i])
            i += 1
        text = "\n".join(shown).strip("\n")
        yield " ".join(_joined(command_lines)), text or None


def _joined(lines: list[str]) -> list[str]:
    """Lines with `\\` continuations and open quotes joined; blank and comment lines left
    out."""
    out: list[str] = []
    current = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if _open_quote(current):
            current += "\n"
            continue
        if current.strip() and not current.lstrip().startswith("#"):
            out.append(current.strip())
        current = ""
    return out


def _open_quote(command: str) -> bool:
    try:
        shlex.split(command, comments=True)
    except ValueError:
        return True
    return False


def run_page(page: Page, shell: Shell) -> int:
    """Write the page's files, then run its commands in order; how many commands ran."""
    wrong = problems(page)
    if wrong:
        raise DocError("\n".join(wrong))
    for block in page.blocks:
        if block.kind == "file":
            target = shell.workdir / block.marks["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
    ran = 0
    for block in page.blocks:
        if block.kind not in ("console", "script"):
            continue
        for command, shown in commands(block):
            if ELISION in command:
                raise DocError(
                    f"{block.where}: $ {command}\na placeholder (…) in a command: give it a "
                    "value from an earlier command ($NAME) or mark the block not run"
                )
            try:
                outcome = shell.run(command)
            except DocError as exc:
                raise DocError(f"{block.where}: $ {command}\n{exc}") from None
            ran += 1
            _check(block, command, shown, outcome)
    return ran


def _check(block: Block, command: str, shown: str | None, outcome: Outcome) -> None:
    if shown is None:
        if not outcome.ok:
            raise DocError(f"{block.where}: $ {command}\nfailed:\n{outcome.output}")
        return
    if not outcome.ok and "error" not in shown.lower() and "HTTP/" not in shown:
        raise DocError(f"{block.where}: $ {command}\nfailed:\n{outcome.output}")
    if not shows(shown, outcome.output):
        raise DocError(
            f"{block.where}: $ {command}\nthe page shows:\n{shown}\n"
            f"the command printed:\n{outcome.output}"
        )
