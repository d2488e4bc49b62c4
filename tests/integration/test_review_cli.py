"""Reviewing held statements: `phigate approvals` (list, show, approve, deny, exit codes) and the `phigate review`
terminal UI (driven inside tmux at 80x24), both against a real gateway with its admin API, with a real
statement held from psql."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import socket
import subprocess
import time
from typing import Callable

import pytest

from itest_support import ADMIN_TOKENS, DATABASE, PHIGATE_USERS, client_environment, conninfo, gateway_only

WAIT_S = 15.0

POLICY = """\
rules:
  - id: clinical-read
    groups: [clinical]
    databases: [clinic]
    kinds: [read, session]
    action: allow
  - id: exports-held
    kinds: [export]
    action: hold
    reason: exports leave the building
    approval: { groups: [approvers], quorum: 1, timeout: 15m }
"""

# Bearer tokens of `gateway(admin=True)`: alice approves; bob is an approver too, so that his attempt to
# approve his own request reaches the no-self-approval rule; carol is in no approver group.
TOKENS = {name: token for name, (token, _) in ADMIN_TOKENS.items()}

HELD_SQL = "COPY (SELECT id FROM patients ORDER BY id LIMIT 3) TO STDOUT"


@pytest.fixture(autouse=True)
def _needs_the_gateway(itest_env):
    gateway_only(itest_env)


class ReviewSetup:
    """A gateway with the hold policy and the admin API, and helpers to drive the approvals CLI."""

    def __init__(self, binary: pathlib.Path, gateway, api_url: str) -> None:
        self.binary = binary
        self.gateway = gateway
        self.api_url = api_url
        self.held: list[subprocess.Popen] = []

    def cli(self, *args: str, token: str | None = "alice", env: dict[str, str] | None = None,
            api: str | None = "default") -> subprocess.CompletedProcess[str]:
        command = [str(self.binary), "approvals", *args]
        if api is not None:
            command += ["--api", self.api_url if api == "default" else api]
        if token is not None:
            command += ["--token", TOKENS.get(token, token)]
        environment = {k: v for k, v in os.environ.items() if k not in ("PHIGATE_ADMIN_URL", "PHIGATE_TOKEN")}
        environment.update(env or {})
        return subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)

    def hold(self, sql: str = HELD_SQL, user: str = "bob") -> subprocess.Popen:
        """Starts psql with a statement the policy holds; it waits inside its session for a decision."""
        password = PHIGATE_USERS[user][0]
        process = subprocess.Popen(
            ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1",
             conninfo(self.gateway.host, self.gateway.port, self.gateway.login(user)), "-c", sql],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=client_environment(password, PGSSLMODE="disable"))
        self.held.append(process)
        return process

    def pending_request(self, requester: str = "bob") -> dict:
        """Waits until a pending request of `requester` is listed and returns its JSON."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            done = self.cli("list", "--json")
            assert done.returncode == 0, done.stderr
            mine = [r for r in json.loads(done.stdout)["requests"]
                    if r["requester"] == requester and r["state"] == "pending"]
            if mine:
                return mine[0]
            time.sleep(0.1)
        pytest.fail(f"no pending request of {requester} within {WAIT_S}s\n{self.gateway.log_text()}")

    def close(self) -> None:
        for process in self.held:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=10)


@pytest.fixture
def review(gateway, itest_env, tmp_path: pathlib.Path):
    policy = tmp_path / "review-policy.yaml"
    policy.write_text(POLICY)
    gw = gateway(admin=True, extra={"policy_file": str(policy)})
    assert gw.admin_port, "the ready file names no admin_port"
    setup = ReviewSetup(itest_env.phigate_bin, gw, f"http://127.0.0.1:{gw.admin_port}")
    yield setup
    setup.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=WAIT_S)
    return process.returncode, out, err


# --- phigate approvals -------------------------------------------------------------------------------------


def test_list_show_and_approve_release_the_held_statement(review, upstream_psql):
    psql = review.hold()
    request = review.pending_request()
    rid = request["id"]
    assert request["kind"] == "export" and request["rule_id"] == "exports-held"

    listed = review.cli("list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:4] == ["ID", "STATE", "AGE", "REQUESTER"]
    row = next(line for line in rows if line.startswith(rid))
    assert row.split()[1:2] == ["pending"]
    for cell in ("bob", "export", DATABASE, "exports-held"):
        assert cell in row.split(), row

    shown = review.cli("show", rid)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0].startswith(f"{rid}  pending  expires in ")
    assert f"  {HELD_SQL}" in shown.stdout.splitlines()
    for line in ("Rule          exports-held", "Requester     bob (clinical)", "Kind          export",
                 "Votes         none yet"):
        assert line in shown.stdout.splitlines(), shown.stdout
    assert "exports leave the building" in shown.stdout, shown.stdout
    assert psql.poll() is None, "the held statement ran before anyone approved it"

    approved = review.cli("approve", rid, "--reason", "quarterly audit")
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout == f"approve recorded for {rid}: request is now approved\n"

    code, out, err = _finish(psql)
    expected = upstream_psql("-c", "SELECT id FROM patients ORDER BY id LIMIT 3").stdout
    assert code == 0, err
    assert out == expected

    after = json.loads(review.cli("show", rid, "--json").stdout)
    assert after["id"] == rid and after["state"] in ("approved", "consumed")
    assert [(v["approver"], v["verdict"], v["reason"]) for v in after["votes"]] == [
        ("alice", "approve", "quarterly audit")]


def test_deny_needs_a_reason_and_refuses_the_held_statement(review):
    psql = review.hold()
    rid = review.pending_request()["id"]

    no_reason = review.cli("deny", rid)
    assert no_reason.returncode == 2
    assert "deny needs --reason TEXT" in no_reason.stderr

    denied = review.cli("deny", rid, "--reason", "not without a ticket")
    assert denied.returncode == 0, denied.stderr
    assert denied.stdout == f"deny recorded for {rid}: request is now denied\n"

    code, out, err = _finish(psql)
    assert code != 0 and out == ""
    assert "ERROR" in err, err

    listed = json.loads(review.cli("list", "--state", "denied", "--json").stdout)["requests"]
    mine = next(r for r in listed if r["id"] == rid)
    assert mine["decided_reason"] == "not without a ticket"
    assert review.cli("list", "--state", "pending").stdout == "no pending requests\n"


def test_approving_your_own_request_prints_the_api_refusal(review):
    psql = review.hold()
    rid = review.pending_request()["id"]

    own = review.cli("approve", rid, token="bob")
    assert own.returncode == 1
    assert own.stdout == ""
    assert own.stderr.startswith("phigate approvals: ") and "own request (HTTP 403)" in own.stderr, own.stderr
    assert psql.poll() is None

    # Someone outside the approver groups is refused too.
    outsider = review.cli("approve", rid, token="carol")
    assert outsider.returncode == 1 and "(HTTP 403)" in outsider.stderr, outsider.stderr

    # A decided request cannot be voted on again: the API answers 409.
    assert review.cli("deny", rid, "--reason", "cleaning up").returncode == 0
    again = review.cli("approve", rid)
    assert again.returncode == 1 and "(HTTP 409)" in again.stderr, again.stderr
    _finish(psql)


def test_exit_codes_for_unknown_ids_bad_tokens_usage_and_unreachable_apis(review):
    unknown = review.cli("show", "r-aaaaaaaaaa")
    assert unknown.returncode == 1 and "(HTTP 404)" in unknown.stderr, unknown.stderr

    bad_token = review.cli("list", token="not-a-token")
    assert bad_token.returncode == 1 and "(HTTP 401)" in bad_token.stderr, bad_token.stderr

    no_api = review.cli("list", api=None)
    assert no_api.returncode == 2
    assert "pass --api URL or set PHIGATE_ADMIN_URL" in no_api.stderr

    no_id = review.cli("show")
    assert no_id.returncode == 2 and "needs exactly one request id" in no_id.stderr

    bad_state = review.cli("list", "--state", "sleeping")
    assert bad_state.returncode == 2 and "unknown --state" in bad_state.stderr

    port = _closed_port()
    unreachable = review.cli("list", api=f"http://127.0.0.1:{port}")
    assert unreachable.returncode == 3
    assert unreachable.stderr == f"phigate approvals: cannot reach http://127.0.0.1:{port}: connection refused\n"


def test_environment_supplies_url_and_token_and_flags_win(review):
    from_env = review.cli("list", api=None, token=None,
                          env={"PHIGATE_ADMIN_URL": review.api_url, "PHIGATE_TOKEN": TOKENS["alice"]})
    assert from_env.returncode == 0, from_env.stderr
    assert from_env.stdout == "no pending requests\n"

    flag_wins = review.cli("list", env={"PHIGATE_ADMIN_URL": f"http://127.0.0.1:{_closed_port()}",
                                        "PHIGATE_TOKEN": "wrong"})
    assert flag_wins.returncode == 0, flag_wins.stderr


def test_https_api_is_verified_against_the_given_ca(gateway, itest_env):
    tls = {"cert_file": str(itest_env.cert("server.crt").resolve()),
           "key_file": str(itest_env.cert("server.key").resolve())}
    gw = gateway(admin=True, extra={"admin": {"tls": tls}})
    setup = ReviewSetup(itest_env.phigate_bin, gw, f"https://localhost:{gw.admin_port}")

    trusted = setup.cli("list", "--cacert", str(itest_env.cert("ca.crt")))
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout == "no pending requests\n"

    untrusted = setup.cli("list")
    assert untrusted.returncode == 3
    assert untrusted.stderr.startswith(f"phigate approvals: cannot reach {setup.api_url}: TLS handshake: "), \
        untrusted.stderr
    assert "certificate verify failed" in untrusted.stderr


# --- phigate review (tmux) ---------------------------------------------------------------------------------


class Tmux:
    """One detached tmux session on a private socket, running a command in an 80x24 window."""

    def __init__(self, socket_path: pathlib.Path, name: str = "review") -> None:
        self.socket = socket_path
        self.name = name

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True, text=True,
                              timeout=30, check=check)

    def start(self, command: list[str], width: int = 80, height: int = 24) -> None:
        self.run("-f", "/dev/null", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                 " ".join(command))

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def screen(self) -> str:
        """The pane's text, or "(tmux session ended)" once the command in it has exited."""
        done = self.run("capture-pane", "-p", "-t", self.name, check=False)
        return done.stdout if done.returncode == 0 else "(tmux session ended)"

    def alive(self) -> bool:
        return self.run("has-session", "-t", self.name, check=False).returncode == 0

    def wait_for(self, what: Callable[[str], bool], description: str) -> str:
        deadline = time.monotonic() + WAIT_S
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if what(text):
                return text
            time.sleep(0.1)
        pytest.fail(f"screen never showed {description} within {WAIT_S}s:\n{text}")

    def close(self) -> None:
        self.run("kill-server", check=False)


@pytest.fixture
def tmux(tmp_path: pathlib.Path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (scripts/lib/deps.sh lists it)")
    session = Tmux(tmp_path / "tmux.sock")
    yield session
    session.close()


def _review_command(review: ReviewSetup, token: str) -> list[str]:
    return [str(review.binary), "review", "--api", review.api_url, "--token", TOKENS[token]]


def test_review_lists_details_and_approves_a_held_statement(review, tmux):
    psql = review.hold()
    rid = review.pending_request()["id"]
    tmux.start(_review_command(review, "alice"))

    screen = tmux.wait_for(lambda s: rid in s and "alice @ " in s, f"{rid} and the identity")
    lines = screen.splitlines()
    assert lines[0].startswith(" phigate review  alice @ " + review.api_url)
    assert "1 pending" in lines[0]
    assert lines[1].split() == ["ID", "AGE", "REQUESTER", "KIND", "DATABASE", "RULE", "EXPIRES", "IN"]
    row = next(line for line in lines if line.startswith(rid))
    assert row.split()[2:6] == ["bob", "export", DATABASE, "exports-held"]
    assert all(len(line) <= 80 for line in lines) and len(lines) <= 24

    tmux.keys("Enter")
    detail = tmux.wait_for(lambda s: "Statement" in s, "the detail view")
    assert f"  {HELD_SQL}" in detail.splitlines()
    assert "Kind          export" in detail
    assert any(line.startswith("Masking       ") for line in detail.splitlines()), detail
    assert "Votes         none yet" in detail

    tmux.keys("a")
    tmux.wait_for(lambda s: f"Approve {rid}? [y/N]" in s, "the approve confirmation")
    tmux.keys("y")
    tmux.wait_for(lambda s: f"approve recorded for {rid}: request is now approved" in s, "the approval notice")
    code, out, err = _finish(psql)
    assert code == 0, err
    assert len(out.splitlines()) == 3

    tmux.keys("q")  # back to the list
    tmux.wait_for(lambda s: "no pending requests" in s, "the emptied list")
    tmux.keys("q")
    tmux.wait_for(lambda s: s == "(tmux session ended)", "the UI quitting")


def test_review_shows_a_refused_self_approval_and_keeps_running(review, tmux):
    psql = review.hold()
    rid = review.pending_request()["id"]
    tmux.start(_review_command(review, "bob"))
    tmux.wait_for(lambda s: rid in s, rid)

    tmux.keys("a")
    tmux.wait_for(lambda s: "[y/N]" in s, "the approve confirmation")
    tmux.keys("y")
    screen = tmux.wait_for(lambda s: f"error: approve {rid}: " in s and "(HTTP 403)" in s, "the 403 refusal")
    assert rid in screen and tmux.alive()
    assert psql.poll() is None

    tmux.keys("d")
    tmux.wait_for(lambda s: f"Deny {rid}, reason" in s, "the deny prompt")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "a reason is required to deny" in s, "the missing-reason message")
    tmux.keys("-l", "my own")
    tmux.keys("Enter")
    # Nobody votes on their own request, not even to deny it.
    tmux.wait_for(lambda s: f"error: deny {rid}: " in s and "(HTTP 403)" in s, "the refused self-denial")
    assert review.cli("deny", rid, "--reason", "cleaning up").returncode == 0
    tmux.wait_for(lambda s: "no pending requests" in s, "the request leaving the list")
    code, _, _ = _finish(psql)
    assert code != 0


def test_review_filters_toggles_states_and_redraws_on_resize(review, tmux):
    psql = review.hold()
    rid = review.pending_request()["id"]
    tmux.start(_review_command(review, "alice"))
    tmux.wait_for(lambda s: rid in s, rid)

    tmux.keys("/")
    tmux.keys("-l", "nomatch")
    tmux.wait_for(lambda s: "no requests match the filter" in s and "filter: nomatch" in s, "an empty filter result")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: rid in s and "filter:" not in s, "the cleared filter")
    tmux.keys("/")
    tmux.keys("-l", "BOB")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: rid in s and "filter: BOB" in s, "a filter by requester")

    tmux.keys("?")
    tmux.wait_for(lambda s: "filter by requester, kind, database, rule or id" in s, "the help")
    tmux.keys("x")
    tmux.wait_for(lambda s: rid in s, "the list after help")

    assert review.cli("deny", rid, "--reason", "testing the state toggle").returncode == 0
    tmux.wait_for(lambda s: rid not in s, "the denied request leaving the pending list")
    tmux.keys("s")
    screen = tmux.wait_for(lambda s: rid in s and "all states" in s, "every state")
    assert "denied" in next(line for line in screen.splitlines() if line.startswith(rid)).split()

    tmux.run("resize-window", "-t", tmux.name, "-x", "60", "-y", "15")
    screen = tmux.wait_for(lambda s: len(s.splitlines()) <= 15 and rid[:6] in s, "the narrower window")
    assert all(len(line) <= 60 for line in screen.splitlines())
    assert tmux.alive()
    tmux.keys("q")
    tmux.wait_for(lambda s: s == "(tmux session ended)", "the UI quitting")
    _finish(psql)


def test_review_without_an_api_shows_the_error_and_quits_cleanly(review, tmux):
    port = _closed_port()
    tmux.start([str(review.binary), "review", "--api", f"http://127.0.0.1:{port}", "--token", "x"])
    tmux.wait_for(lambda s: f"error: cannot reach http://127.0.0.1:{port}: connection refused" in s,
                  "the unreachable API")
    tmux.keys("q")
    tmux.wait_for(lambda s: s == "(tmux session ended)", "the UI quitting")
