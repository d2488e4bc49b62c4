"""Statements held for approval inside the client's own session: psql and pgjdbc wait on a held statement
while approvers answer through the admin API; approve runs exactly the held bytes, deny and expiry refuse
them, Ctrl-C and disconnect abandon the request, a restarted gateway abandons what its sessions left, and
the requester can never approve their own request."""

from __future__ import annotations

import json
import pathlib
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from itest_support import (ADMIN_TOKENS, DATABASE, client_environment, conninfo, gateway_only)
from test_audit import audit_extra, audit_records, wait_for

PGJDBC_JAR = pathlib.Path("/usr/share/java/postgresql.jar")

POLICY = """\
rules:
  - id: privilege-held
    kinds: [privilege]
    action: hold
    approval: { groups: [approvers], quorum: 2, timeout: 2m }
  - id: exports-held
    kinds: [export]
    action: hold
    approval: { groups: [approvers], quorum: 1, timeout: 2m }
  - id: ddl-needs-a-reason
    kinds: [ddl]
    action: hold
    approval: { groups: [approvers], quorum: 1, timeout: 2m, justification: required }
  - id: everyone-reads
    kinds: [read, session]
    action: allow
"""

HOLD_WAIT_S = 30


@pytest.fixture(autouse=True)
def _needs_the_gateway(itest_env):
    gateway_only(itest_env)


@pytest.fixture
def held_gateway(gateway, tmp_path):
    (tmp_path / "approvals-policy.yaml").write_text(POLICY)
    return gateway(admin=True, extra={"policy_file": str(tmp_path / "approvals-policy.yaml"),
                                      "approvals": {"store": str(tmp_path / "approvals.db")}})


class Api:
    """The admin API as an approver sees it."""

    def __init__(self, gateway) -> None:
        assert gateway.admin_port, "the gateway wrote no admin_port"
        self.base = f"http://127.0.0.1:{gateway.admin_port}"

    def call(self, who: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {ADMIN_TOKENS[who][0]}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def pending(self, requester: str, seen: set[str] | None = None) -> dict:
        """Waits for a new pending request of `requester` and returns it."""
        deadline = time.monotonic() + HOLD_WAIT_S
        while time.monotonic() < deadline:
            status, body = self.call("alice", "GET", "/api/v1/requests?state=pending")
            assert status == 200, body
            for r in body["requests"]:
                if r["requester"] == requester and r["id"] not in (seen or set()):
                    return r
            time.sleep(0.1)
        pytest.fail(f"no pending request of {requester} within {HOLD_WAIT_S}s")

    def state(self, request_id: str) -> str:
        status, body = self.call("alice", "GET", f"/api/v1/requests/{request_id}")
        assert status == 200, body
        return body["state"]

    def wait_state(self, request_id: str, wanted: str) -> None:
        deadline = time.monotonic() + HOLD_WAIT_S
        while self.state(request_id) != wanted:
            assert time.monotonic() < deadline, f"{request_id} never became {wanted}"
            time.sleep(0.1)


def start_psql(gateway, user: str, *commands: str) -> subprocess.Popen:
    args = ["psql", "-X", "-At", "-v", "VERBOSITY=verbose", conninfo(gateway.host, gateway.port,
                                                                    gateway.login(user))]
    for command in commands:
        args += ["-c", command]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=client_environment(gateway.login(user).password, PGSSLMODE="disable"))


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=HOLD_WAIT_S)
    return process.returncode, out, err


def upstream_value(upstream_psql, sql: str) -> str:
    return upstream_psql("-c", sql).stdout.strip()


def test_approved_export_runs_in_the_same_session_and_the_approval_is_single_use(held_gateway):
    api = Api(held_gateway)
    client = start_psql(held_gateway, "carol", "SELECT 1", "COPY (SELECT id FROM clinics ORDER BY id) TO STDOUT",
                        "SELECT 2")
    request = api.pending("carol")
    assert request["rule_id"] == "exports-held" and request["kind"] == "export"
    assert request["statement"] == "COPY (SELECT id FROM clinics ORDER BY id) TO STDOUT"
    assert request["approval"]["quorum"] == 1 and request["approval"]["groups"] == ["approvers"]
    assert client.poll() is None, "the client must wait while its statement is held"
    status, body = api.call("alice", "POST", f"/api/v1/requests/{request['id']}/approve", {"reason": "ok"})
    assert status == 200 and body["state"] in ("approved", "consumed"), body
    code, out, err = finish(client)
    assert code == 0, err
    lines = out.split()
    assert lines[0] == "1" and lines[-1] == "2" and len(lines) > 2, out
    assert f"statement held for approval as request {request['id']} (rule exports-held)" in err, err
    api.wait_state(request["id"], "consumed")
    status, _ = api.call("bob", "POST", f"/api/v1/requests/{request['id']}/approve", {"reason": "again"})
    assert status == 409
    # The same statement again, or with another literal, is a new request: the approval was used up.
    for again in ("COPY (SELECT id FROM clinics ORDER BY id) TO STDOUT",
                  "COPY (SELECT id FROM clinics WHERE id > 1 ORDER BY id) TO STDOUT"):
        second = start_psql(held_gateway, "carol", again)
        fresh = api.pending("carol", seen={request["id"]})
        assert fresh["id"] != request["id"] and fresh["digest"] != "" and fresh["statement"] == again
        assert second.poll() is None
        api.call("alice", "POST", f"/api/v1/requests/{fresh['id']}/deny", {"reason": "once was enough"})
        assert finish(second)[0] != 0


def test_denied_request_refuses_the_statement_with_the_reviewers_reason(held_gateway):
    api = Api(held_gateway)
    client = start_psql(held_gateway, "carol", "COPY clinics TO STDOUT")
    request = api.pending("carol")
    status, _ = api.call("alice", "POST", f"/api/v1/requests/{request['id']}/deny",
                         {"reason": "not for billing"})
    assert status == 200
    code, _, err = finish(client)
    assert code != 0
    assert f"ERROR:  42501: phigate: request {request['id']} was denied by alice: not for billing" in err, err


def test_requester_can_never_approve_their_own_request(held_gateway):
    api = Api(held_gateway)
    client = start_psql(held_gateway, "bob", "COPY clinics TO STDOUT")
    request = api.pending("bob")
    status, body = api.call("bob", "POST", f"/api/v1/requests/{request['id']}/approve", {})
    assert status == 403, body
    assert api.state(request["id"]) == "pending"
    assert client.poll() is None
    api.call("alice", "POST", f"/api/v1/requests/{request['id']}/deny", {"reason": "cleanup"})
    finish(client)


def test_privilege_change_needs_two_distinct_approvers(held_gateway):
    api = Api(held_gateway)
    client = start_psql(held_gateway, "carol", "GRANT SELECT ON clinics TO app_writer")
    request = api.pending("carol")
    assert request["kind"] == "privilege"
    status, body = api.call("alice", "POST", f"/api/v1/requests/{request['id']}/approve", {})
    assert status == 200 and body["state"] == "pending", body
    status, _ = api.call("alice", "POST", f"/api/v1/requests/{request['id']}/approve", {})
    assert status == 409, "one identity counts once"
    assert client.poll() is None
    status, body = api.call("bob", "POST", f"/api/v1/requests/{request['id']}/approve", {})
    assert status == 200
    code, _, err = finish(client)
    # The statement reached the server: app_writer holds no grant option on clinics, and the server says so.
    assert 'no privileges were granted for "clinics"' in err, err
    assert code == 0


def test_ctrl_c_abandons_the_request(held_gateway):
    api = Api(held_gateway)
    client = start_psql(held_gateway, "carol", "COPY clinics TO STDOUT")
    request = api.pending("carol")
    client.send_signal(signal.SIGINT)
    code, _, err = finish(client)
    assert code != 0
    assert "57014" in err and "canceling statement due to user request" in err, err
    api.wait_state(request["id"], "abandoned")
    status, _ = api.call("alice", "POST", f"/api/v1/requests/{request['id']}/approve", {})
    assert status == 409


def test_disconnect_abandons_the_request(held_gateway):
    api = Api(held_gateway)
    client = start_psql(held_gateway, "carol", "COPY clinics TO STDOUT")
    request = api.pending("carol")
    client.kill()
    client.wait()
    api.wait_state(request["id"], "abandoned")


def test_a_required_justification_is_asked_for_and_shown_to_reviewers(held_gateway, upstream_psql):
    api = Api(held_gateway)
    upstream_psql("-c", "DROP TABLE IF EXISTS approvals_reason_t")
    done = finish(start_psql(held_gateway, "carol", "CREATE TABLE approvals_reason_t (id int)"))
    assert done[0] != 0 and "needs a justification" in done[2], done[2]
    client = start_psql(held_gateway, "carol",
                        "/* justification: ticket OPS-12 */ CREATE TABLE approvals_reason_t (id int)")
    request = api.pending("carol")
    assert request["justification"] == "ticket OPS-12"
    api.call("alice", "POST", f"/api/v1/requests/{request['id']}/deny", {"reason": "not today"})
    assert finish(client)[0] != 0
    assert upstream_value(upstream_psql, "SELECT to_regclass('public.approvals_reason_t') IS NULL") == "t"


def test_restarted_gateway_abandons_requests_of_dead_sessions(gateway_launcher, tmp_path):
    (tmp_path / "approvals-policy.yaml").write_text(POLICY)
    overrides = {"admin": True, "extra": {"policy_file": str(tmp_path / "approvals-policy.yaml"),
                                          "approvals": {"store": str(tmp_path / "restart.db")}}}
    first = gateway_launcher.start(**overrides)
    client = start_psql(first, "carol", "COPY clinics TO STDOUT")
    request = Api(first).pending("carol")
    first.process.kill()  # a crash: nothing gets the chance to mark the request
    first.process.wait()
    first.stopped = True
    client.wait(timeout=HOLD_WAIT_S)
    second = gateway_launcher.start(**overrides)
    assert Api(second).state(request["id"]) == "abandoned"


@pytest.fixture(scope="module")
def jdbc_classes(tmp_path_factory):
    out = tmp_path_factory.mktemp("policy-client")
    source = pathlib.Path(__file__).parent / "clients" / "PolicyClient.java"
    subprocess.run(["javac", "-d", str(out), "-cp", str(PGJDBC_JAR), str(source)], check=True, timeout=120)
    return out


def test_pgjdbc_extended_protocol_hold_is_released_on_approval(held_gateway, jdbc_classes):
    api = Api(held_gateway)
    login = held_gateway.login("carol")
    url = (f"jdbc:postgresql://{held_gateway.host}:{held_gateway.port}/{DATABASE}?sslmode=disable"
           "&prepareThreshold=1")
    client = subprocess.Popen(["java", "-cp", f"{jdbc_classes}:{PGJDBC_JAR}", "PolicyClient", url, login.user,
                               login.password, "SELECT 1", "COPY clinics TO STDOUT", "SELECT 2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=client_environment())
    request = api.pending("carol")
    assert client.poll() is None
    api.call("alice", "POST", f"/api/v1/requests/{request['id']}/approve", {})
    out, err = client.communicate(timeout=60)
    assert client.returncode == 0, out + err
    lines = out.splitlines()
    assert lines[0] == "OK 1" and lines[2] == "OK 1", lines
    # pgjdbc refuses COPY outside its CopyManager once the server starts it: the statement ran upstream.
    assert "phigate" not in lines[1], lines
    api.wait_state(request["id"], "consumed")


def test_audit_trail_of_a_held_approved_export_names_requester_approver_and_outcome(gateway, tmp_path, itest_env):
    (tmp_path / "approvals-policy.yaml").write_text(POLICY)
    extra = audit_extra(tmp_path, policy=False)
    extra.update({"policy_file": str(tmp_path / "approvals-policy.yaml"),
                  "approvals": {"store": str(tmp_path / "approvals.db")}})
    gw = gateway(admin=True, extra=extra)
    api = Api(gw)
    client = start_psql(gw, "carol", "COPY (SELECT id FROM clinics ORDER BY id LIMIT 2) TO STDOUT")
    request = api.pending("carol")
    api.call("alice", "POST", f"/api/v1/requests/{request['id']}/approve", {"reason": "quarterly report"})
    code, out, err = finish(client)
    assert code == 0 and len(out.split()) == 2, err
    def copies_finished(records):
        return [r["outcome"] for r in records
                if r["kind"] in ("outcome", "statement") and r["outcome"].get("command") == "COPY"]

    def carols_trail():
        records = audit_records(itest_env, gw, "--identity", "carol")
        return records if copies_finished(records) else None

    # The COPY's outcome is an ordinary record: committed with the writer's next group, a moment later.
    records = wait_for(carols_trail, what="the COPY's outcome record")
    steps = [r["approval"] for r in records if r["kind"] == "approval"]
    assert [s["step"] for s in steps] == ["requested", "approved", "consumed"], steps
    assert all(s["request"] == request["id"] and s["digest"] == request["digest"] for s in steps)
    assert steps[1]["approvers"] == ["alice"] and "quarterly report" in steps[1]["reason"], steps[1]
    held = [r for r in records if r["kind"] == "decision" and r["decision"]["verdict"] == "hold"]
    assert held and held[0]["who"]["person"] == "carol" and held[0]["decision"]["rule"] == "exports-held", held
    copies = copies_finished(records)
    assert copies and copies[-1]["rows"] == 2 and copies[-1]["sqlstate"] == "00000", copies
