"""Drive Hummingbot's real client (`hummingbot-stellar client`) through a pseudo-terminal.

Keystrokes go through the terminal as a person types them. What the client printed is read from its
transcript (`--transcript`: a copy of the output pane, plus `[prompt] ...` once each question waits for
its answer), because prompt_toolkit redraws the full-screen terminal by difference and the raw stream
does not keep the text in one piece. The terminal's output is drained all along, so the client never
blocks on a full terminal.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence

import pexpect

REPO_ROOT = Path(__file__).resolve().parents[2]
ERASE = "\x7f" * 80  # backspaces: the client pre-fills some answers with their default


def child_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "STELLAR_PROFILING")}
    env.update({"PYTHONPATH": str(REPO_ROOT), "TERM": "xterm", **extra})
    return {key: value for key, value in env.items() if value != "" or key != "PYTHONPATH"}


class DemoSandbox:
    """`python -m stellar_sandbox serve --demo` in a child process, owned by the test."""

    def __init__(self, folder: Path, ledger_interval: float = 1.0, market_rate: float = 2.0) -> None:
        self.demo_file = folder / "sandbox.json"
        self.log = open(folder / "sandbox.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stellar_sandbox", "serve", "--port", "0", "--ledger-interval", str(ledger_interval),
             "--demo", "--demo-json", str(self.demo_file), "--market-rate", str(market_rate), "--exit-with-parent"],
            cwd=REPO_ROOT, env=child_env(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while not self.demo_file.exists():
            assert self.process.poll() is None, f"the sandbox stopped; see {folder / 'sandbox.log'}"
            assert time.monotonic() < deadline, "the sandbox was not ready in 120 s"
            time.sleep(0.2)
        self.demo = json.loads(self.demo_file.read_text())

    def account_offers(self, account_id: str | None = None) -> list[dict]:
        import urllib.request

        account_id = account_id or self.demo["accounts"][0]["public_key"]
        url = f"{self.demo['horizon_url']}/accounts/{account_id}/offers?limit=200"
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)["_embedded"]["records"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class ClientSession:
    """One `hummingbot-stellar client` in a pseudo-terminal, read through its transcript."""

    def __init__(self, home: Path, args: Sequence[str], rows: int = 50, columns: int = 200,
                 env: dict[str, str] | None = None) -> None:
        self.transcript = home.parent / (home.name + "-transcript.txt")
        self.screen = open(home.parent / (home.name + "-terminal.log"), "w", encoding="utf-8")  # noqa: SIM115
        self.child = pexpect.spawn(
            sys.executable, ["-m", "hummingbot_stellar_cli", "client", "--home", str(home), "--transcript",
                             str(self.transcript), *args],
            cwd=str(home.parent), env=child_env(**(env or {})), dimensions=(rows, columns), encoding="utf-8",
            codec_errors="replace", timeout=30)
        self.child.logfile_read = self.screen
        self.mark = 0  # transcript offset where the current command's output starts

    def text(self, since: int | None = None) -> str:
        text = self.transcript.read_text(encoding="utf-8") if self.transcript.exists() else ""
        return text[self.mark if since is None else since:]

    def drain(self, seconds: float = 0.2) -> None:
        try:
            self.child.expect([pexpect.TIMEOUT], timeout=seconds)
        except pexpect.EOF:
            raise AssertionError(f"the client ended; transcript tail:\n{self.text(0)[-3000:]}") from None

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.text(), re.MULTILINE)
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} in {timeout:.0f} s; the command printed:\n{self.text()[-4000:]}")
            self.drain()

    def command(self, line: str) -> None:
        self.mark = len(self.text(0))
        self.child.send(line + "\r")
        self.wait_for(re.escape(f">>>  {line}"), 15)

    def answer(self, answers: Iterable[tuple[str, str]], until: str, timeout: float = 120.0) -> list[str]:
        """Answer each question as it comes (the first matching pattern's answer; none: Enter keeps the
        default) until `until` shows; the questions asked, in order."""
        answers = list(answers)
        asked: list[str] = []
        seen = self.mark  # the questions of the current command, from its start
        deadline = time.monotonic() + timeout
        while not re.search(until, self.text(), re.MULTILINE):
            assert time.monotonic() < deadline, f"no {until!r}; questions so far {asked}:\n{self.text()[-3000:]}"
            question = re.search(r"^\[prompt\] (.*)$", self.text(seen), re.MULTILINE)
            if question is None:
                self.drain()
                continue
            seen += question.end()
            text = question.group(1)
            asked.append(text)
            assert asked.count(text) <= 2, f"asked again and again: {text!r}:\n{self.text()[-3000:]}"
            reply = next((value for pattern, value in answers if re.search(pattern, text, re.IGNORECASE)), None)
            self.child.send(ERASE + reply if reply is not None else "")
            self.drain(0.3)
            self.child.send("\r")
        return asked

    def wait_exit(self, timeout: float = 90.0) -> str:
        """The terminal's last output once the client has ended."""
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.child.close()
        return self.child.before or ""

    def close(self) -> None:
        if self.child.isalive():
            self.child.kill(signal.SIGKILL)
        self.screen.close()
