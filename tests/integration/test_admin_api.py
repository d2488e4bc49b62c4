"""The admin HTTP API and the chat integrations through a real phigate, over real HTTP (urllib, http.client).

Without a held statement: health, bearer-token refusals, whoami, listing, unknown ids, the changes long-poll
timing out, request limits, keep-alive and Slack signature refusals.

With held statements (tests under "Held statements" below; they need the session to hold statements for
approval): chat and webhook posts received by a local HTTP server, approve and deny through the API, the
no-self-approval and eligibility rules, and a signed Slack click deciding a request.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import http.server
import json
import pathlib
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from itest_support import ADMIN_TOKENS, client_environment, conninfo, gateway_only

SLACK_SECRET = "slack-signing-secret-for-tests"
WEBHOOK_SECRET = "webhook-secret-for-tests"
SLACK_USERS = {"U0ALICE": "alice", "U0BOB": "bob"}

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
    approval: { groups: [approvers], quorum: 1, timeout: 2m }
"""


@pytest.fixture(autouse=True)
def _needs_the_gateway(itest_env):
    gateway_only(itest_env)


def token(identity: str) -> str:
    return ADMIN_TOKENS[identity][0]


def call(gw, method: str, path: str, *, identity: str | None = None, bearer: str | None = None,
         body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request to the gateway's admin listener; returns (status, headers, body) for any status."""
    request = urllib.request.Request(f"http://127.0.0.1:{gw.admin_port}{path}", data=body, method=method,
                                     headers=dict(headers or {}))
    if identity is not None:
        bearer = token(identity)
    if bearer is not None:
        request.add_header("Authorization", f"Bearer {bearer}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def call_json(gw, method: str, path: str, **options) -> tuple[int, dict]:
    status, headers, body = call(gw, method, path, **options)
    assert headers.get("Content-Type") == "application/json", (status, headers, body)
    return status, json.loads(body)


def slack_post(gw, body: str, *, timestamp: int | None = None, secret: str = SLACK_SECRET,
               signature: str | None = None) -> tuple[int, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    if signature is None:
        digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        signature = f"v0={digest}"
    status, _, reply = call(gw, "POST", "/slack/interactive", body=body.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature})
    return status, reply.decode()


def slack_click(user: str, action: str, request_id: str, response_url: str | None = None) -> str:
    payload = {"type": "block_actions", "user": {"id": user, "username": user.lower()},
               "actions": [{"action_id": action, "block_id": "phigate_approval", "value": request_id}]}
    if response_url:
        payload["response_url"] = response_url
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


class Receiver:
    """A local HTTP server standing in for Slack, Teams and a webhook consumer: records every POST."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.posts.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.posts) >= count:
                    return list(self.posts)
            time.sleep(0.05)
        with self.lock:
            pytest.fail(f"expected {count} posts, got {len(self.posts)}: {self.posts}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def admin_gateway(gateway, monkeypatch):
    """A gateway with the admin API and Slack interactivity, no policy."""
    monkeypatch.setenv("PHIGATE_ITEST_SLACK_SECRET", SLACK_SECRET)
    return gateway(admin=True, extra={"notify": {"slack": {
        "webhook_url": "http://127.0.0.1:9/unused", "signing_secret_env": "PHIGATE_ITEST_SLACK_SECRET",
        "users": SLACK_USERS}}})


def test_ready_file_names_the_admin_port_and_health_needs_no_token(admin_gateway):
    assert isinstance(admin_gateway.admin_port, int) and admin_gateway.admin_port > 0
    status, body = call_json(admin_gateway, "GET", "/healthz")
    assert (status, body) == (200, {"status": "ok"})


def test_api_refuses_a_missing_or_wrong_token(admin_gateway):
    for path in ("/api/v1/requests", "/api/v1/whoami", "/api/v1/requests/r-aaaaaaaaaa", "/api/v1/changes"):
        status, headers, body = call(admin_gateway, "GET", path)
        assert status == 401, (path, status, body)
        assert headers.get("WWW-Authenticate") == 'Bearer realm="phigate"'
        assert json.loads(body) == {"error": "missing or invalid bearer token"}
        status, _, _ = call(admin_gateway, "GET", path, bearer="not-a-configured-token")
        assert status == 401
        # The hash of a token is not a token.
        status, _, _ = call(admin_gateway, "GET", path,
                            bearer=hashlib.sha256(token("alice").encode()).hexdigest())
        assert status == 401
    status, _, _ = call(admin_gateway, "POST", "/api/v1/requests/r-aaaaaaaaaa/approve", body=b"{}")
    assert status == 401


def test_whoami_names_the_identity_with_user_and_token_groups(admin_gateway):
    assert call_json(admin_gateway, "GET", "/api/v1/whoami", identity="alice") == (
        200, {"identity": "alice", "groups": ["clinical", "approvers"]})
    assert call_json(admin_gateway, "GET", "/api/v1/whoami", identity="carol") == (
        200, {"identity": "carol", "groups": ["billing"]})


def test_list_unknown_ids_and_bad_parameters(admin_gateway):
    assert call_json(admin_gateway, "GET", "/api/v1/requests?state=pending", identity="alice") == (
        200, {"requests": []})
    status, body = call_json(admin_gateway, "GET", "/api/v1/requests/r-aaaaaaaaaa", identity="alice")
    assert status == 404 and "r-aaaaaaaaaa" in body["error"]
    status, body = call_json(admin_gateway, "POST", "/api/v1/requests/r-aaaaaaaaaa/approve", identity="alice",
                             body=b'{"reason": "fine"}')
    assert status == 404, body
    status, body = call_json(admin_gateway, "POST", "/api/v1/requests/r-aaaaaaaaaa/deny", identity="alice",
                             body=b"{}")
    assert status == 400 and "reason" in body["error"]
    status, _ = call_json(admin_gateway, "GET", "/api/v1/requests?state=sleeping", identity="alice")
    assert status == 400
    status, _ = call_json(admin_gateway, "GET", "/api/v1/nowhere", identity="alice")
    assert status == 404


def test_changes_long_poll_returns_empty_at_its_timeout(admin_gateway):
    status, first = call_json(admin_gateway, "GET", "/api/v1/changes?since=0&timeout=0", identity="alice")
    assert status == 200 and first["requests"] == []
    started = time.monotonic()
    status, body = call_json(admin_gateway, "GET", f"/api/v1/changes?since={first['seq']}&timeout=1",
                             identity="alice")
    elapsed = time.monotonic() - started
    assert status == 200 and body == {"seq": first["seq"], "requests": []}
    assert 0.9 <= elapsed < 5, elapsed


def test_connection_is_kept_alive_and_oversized_bodies_are_refused(admin_gateway):
    connection = http.client.HTTPConnection("127.0.0.1", admin_gateway.admin_port, timeout=10)
    try:
        for _ in range(3):
            connection.request("GET", "/api/v1/whoami", headers={"Authorization": f"Bearer {token('alice')}"})
            response = connection.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["identity"] == "alice"
        connection.request("POST", "/api/v1/requests/r-aaaaaaaaaa/approve", body=b"x" * (65 * 1024),
                           headers={"Authorization": f"Bearer {token('alice')}"})
        response = connection.getresponse()
        assert response.status == 413
    finally:
        connection.close()


def test_slack_requests_with_a_bad_or_stale_signature_are_refused(admin_gateway):
    click = slack_click("U0ALICE", "approve", "r-aaaaaaaaaa")
    assert slack_post(admin_gateway, click, secret="some other secret")[0] == 401
    assert slack_post(admin_gateway, click, signature="v0=" + "0" * 64)[0] == 401
    assert slack_post(admin_gateway, click, timestamp=int(time.time()) - 600)[0] == 401
    status, _, _ = call(admin_gateway, "POST", "/slack/interactive", body=click.encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401
    # Correctly signed: an unmapped Slack user is refused, a mapped one reaches the service (no such request).
    assert slack_post(admin_gateway, slack_click("U0NOBODY", "approve", "r-aaaaaaaaaa"))[0] == 403
    status, text = slack_post(admin_gateway, click)
    assert status == 200 and "r-aaaaaaaaaa" in text, text


def test_admin_listener_is_off_without_the_section(gateway):
    gw = gateway()
    assert gw.admin_port is None
    assert "admin API listening" not in gw.log_text()


# Held statements: the tests below need the session to hold a statement for approval (COPY ... TO STDOUT under
# the exports-held rule) and release it once approved.

def start_held_copy(gw, user: str = "bob") -> subprocess.Popen:
    """psql running COPY patients TO STDOUT, which the policy holds; it blocks until the request is decided."""
    login = gw.login(user)
    return subprocess.Popen(
        ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", conninfo(gw.host, gw.port, login), "-c",
         "COPY (SELECT id FROM patients WHERE id IN (1, 2, 3) ORDER BY id) TO STDOUT"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=client_environment(login.password, PGSSLMODE="disable"))


def wait_for_pending(gw, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = call_json(gw, "GET", "/api/v1/requests?state=pending", identity="alice")
        assert status == 200
        if body["requests"]:
            return body["requests"][0]
        time.sleep(0.1)
    pytest.fail(f"no pending request within {timeout}s\n{gw.log_text()}")


@pytest.fixture
def held_gateway(gateway, tmp_path: pathlib.Path, receiver, monkeypatch):
    monkeypatch.setenv("PHIGATE_ITEST_SLACK_SECRET", SLACK_SECRET)
    monkeypatch.setenv("PHIGATE_ITEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    return gateway(admin=True, extra={
        "policy_file": str(policy),
        "notify": {
            "slack": {"webhook_url": receiver.url("/slack"), "signing_secret_env": "PHIGATE_ITEST_SLACK_SECRET",
                      "users": SLACK_USERS},
            "teams": {"webhook_url": receiver.url("/teams")},
            "webhook": {"url": receiver.url("/hook"), "secret_env": "PHIGATE_ITEST_WEBHOOK_SECRET"},
        }})


def finish(process: subprocess.Popen, timeout: float = 30) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def test_a_held_statement_is_announced_to_slack_teams_and_the_webhook(held_gateway, receiver):
    process = start_held_copy(held_gateway)
    try:
        request = wait_for_pending(held_gateway)
        posts = {post["path"]: post for post in receiver.wait_for(3)}
        assert set(posts) == {"/slack", "/teams", "/hook"}
        rid = request["id"]
        link = f"http://127.0.0.1:6480/api/v1/requests/{rid}"
        for post in posts.values():
            text = post["body"].decode()
            assert rid in text and "bob" in text and "exports-held" in text
            assert "id IN ($1, $2, $3)" in text, text  # the normalized statement: literals never leave
            assert "(1, 2, 3)" not in text
        slack = json.loads(posts["/slack"]["body"])
        buttons = slack["blocks"][2]["elements"]
        assert [(b["action_id"], b["value"]) for b in buttons] == [("approve", rid), ("deny", rid)]
        teams = json.loads(posts["/teams"]["body"])
        assert teams["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
        hook = posts["/hook"]
        event = json.loads(hook["body"])
        assert event["event"] == "request.created" and event["link"] == link
        assert event["request"]["id"] == rid and event["request"]["kind"] == "export"
        ts = hook["headers"]["X-Phigate-Timestamp"]
        expected = hmac.new(WEBHOOK_SECRET.encode(), ts.encode() + b"." + hook["body"], hashlib.sha256).hexdigest()
        assert hook["headers"]["X-Phigate-Signature"] == f"sha256={expected}"
        assert abs(int(ts) - time.time()) < 60
    finally:
        process.kill()
        process.communicate()


def test_an_approval_through_the_api_releases_the_statement(held_gateway):
    process = start_held_copy(held_gateway)
    request = wait_for_pending(held_gateway)
    rid = request["id"]
    assert request["requester"] == "bob" and request["rule_id"] == "exports-held"
    status, body = call_json(held_gateway, "POST", f"/api/v1/requests/{rid}/approve", identity="bob",
                             body=b'{"reason": "my own"}')
    assert status == 403, body
    status, body = call_json(held_gateway, "POST", f"/api/v1/requests/{rid}/approve", identity="carol",
                             body=b"{}")
    assert status == 403, body
    status, body = call_json(held_gateway, "POST", f"/api/v1/requests/{rid}/approve", identity="alice",
                             body=b'{"reason": "checked with the data owner"}')
    assert status == 200 and body["state"] in ("approved", "consumed"), body
    assert body["votes"][0]["approver"] == "alice"
    code, out, err = finish(process)
    assert code == 0, err
    assert out.split() == ["1", "2", "3"]
    status, body = call_json(held_gateway, "POST", f"/api/v1/requests/{rid}/deny", identity="alice",
                             body=b'{"reason": "too late"}')
    assert status == 409, body


def test_a_deny_through_the_api_refuses_the_statement(held_gateway):
    process = start_held_copy(held_gateway)
    rid = wait_for_pending(held_gateway)["id"]
    status, body = call_json(held_gateway, "POST", f"/api/v1/requests/{rid}/deny", identity="alice",
                             body=b'{"reason": "no exports this week"}')
    assert status == 200 and body["state"] == "denied"
    code, out, err = finish(process)
    assert code != 0 and out == ""
    assert "no exports this week" in err or "denied" in err, err


def test_the_changes_long_poll_wakes_on_a_new_request(held_gateway):
    status, first = call_json(held_gateway, "GET", "/api/v1/changes?since=0&timeout=0", identity="alice")
    assert status == 200
    result: dict = {}

    def poll() -> None:
        started = time.monotonic()
        result["answer"] = call_json(held_gateway, "GET", f"/api/v1/changes?since={first['seq']}&timeout=30",
                                     identity="alice")
        result["elapsed"] = time.monotonic() - started

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    process = start_held_copy(held_gateway)
    try:
        poller.join(timeout=20)
        status, body = result["answer"]
        assert status == 200 and body["requests"][0]["state"] == "pending"
        assert body["seq"] > first["seq"]
        assert result["elapsed"] < 15
    finally:
        process.kill()
        process.communicate()


def test_slack_clicks_are_answered_through_their_response_url(held_gateway, receiver):
    """A click that leaves the request open is answered to the clicker alone (the buttons stay for the
    others); the click that decides it replaces the message with the request and its state, without
    buttons. A response_url on another host than the webhook's gets nothing."""
    process = start_held_copy(held_gateway)
    try:
        rid = wait_for_pending(held_gateway)["id"]
        receiver.wait_for(3)  # the announcements
        assert slack_post(held_gateway, slack_click("U0BOB", "approve", rid, receiver.url("/reply-bob")))[0] == 200
        bob = json.loads(next(p for p in receiver.wait_for(4) if p["path"] == "/reply-bob")["body"])
        assert bob["response_type"] == "ephemeral" and bob["replace_original"] is False
        assert "own" in bob["text"], bob  # no self-approval

        assert slack_post(held_gateway, slack_click("U0ALICE", "approve", rid, receiver.url("/reply-alice")))[0] == 200
        alice = json.loads(next(p for p in receiver.wait_for(5) if p["path"] == "/reply-alice")["body"])
        assert alice["replace_original"] is True and "response_type" not in alice
        assert [block["type"] for block in alice["blocks"]] == ["section", "section", "section"]  # no buttons
        assert rid in alice["blocks"][0]["text"]["text"]
        assert alice["blocks"][2]["text"]["text"].startswith("*approved* (alice approved in Slack)"), alice
        code, out, err = finish(process)
        assert code == 0 and out.split() == ["1", "2", "3"], err

        elsewhere = receiver.url("/reply-elsewhere").replace("127.0.0.1", "localhost")
        assert slack_post(held_gateway, slack_click("U0ALICE", "deny", rid, elsewhere))[0] == 200
        deadline = time.monotonic() + 10
        while "no reply sent" not in held_gateway.log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert f"the response_url of the click on {rid} is not on 127.0.0.1" in held_gateway.log_text()
        assert all(p["path"] != "/reply-elsewhere" for p in receiver.posts)
    finally:
        process.kill()
        process.communicate()


def test_a_signed_slack_click_decides_as_the_mapped_user(held_gateway):
    process = start_held_copy(held_gateway)
    rid = wait_for_pending(held_gateway)["id"]
    status, text = slack_post(held_gateway, slack_click("U0BOB", "approve", rid))
    assert status == 200 and "own" in text, text  # bob filed it: no self-approval through Slack either
    status, text = slack_post(held_gateway, slack_click("U0ALICE", "approve", rid))
    assert status == 200, text
    code, out, err = finish(process)
    assert code == 0, err
    assert out.split() == ["1", "2", "3"]
    status, body = call_json(held_gateway, "GET", f"/api/v1/requests/{rid}", identity="alice")
    assert [v["approver"] for v in body["votes"]] == ["alice"]
    assert body["votes"][0]["reason"] == "approved in Slack"
