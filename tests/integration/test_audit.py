"""The audit log through real clients: the trail of allowed and denied statements names the person and keeps
literals out; `phigate audit verify` passes on an untouched log and names the first bad record after each
kind of edit (made with python's sqlite3, as anyone with file access could); kill -9 during pgbench leaves a
log that verifies; a store that turns read-only or is deleted makes the gateway refuse statements with
SQLSTATE 58030 until it recovers; export filters by identity and time, as JSON lines and CSV; each statement's
decision and outcome are recorded once each, in one `statement` record when the outcome came while the decision
was still queued, and a session's consecutive statements share one `statements` record (one item each).

The held-and-approved export trail (requester, approvers, outcome) is checked with the approvals suite:
`audit_records(gateway)` below reads the trail of any gateway started with `audit_extra(tmp_path)`."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import pathlib
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from itest_support import DATABASE, client_environment, gateway_only

POLICY = """\
rules:
  - id: clinical-read
    groups: [clinical]
    databases: [clinic]
    kinds: [read, session]
    action: allow
  - id: billing-no-patients
    groups: [billing]
    tables: [public.patients]
    action: deny
    reason: billing staff never see patient records
"""

HMAC_KEY = "audit-test-hmac-key-0123456789abcdef"
# Kinds whose records carry a decision / an outcome: a `statement` record carries both.
DECIDED = ("decision", "statement")
FINISHED = ("outcome", "statement")
SECRET_LITERAL = "123-45-6789"


@pytest.fixture(autouse=True)
def _needs_the_gateway(itest_env):
    gateway_only(itest_env)


def audit_extra(tmp_path: pathlib.Path, store: pathlib.Path | None = None, policy: bool = True,
                checkpoint_interval_ms: int = 200) -> dict:
    """The config sections for a gateway with an audit log (and the test policy) under tmp_path."""
    key = tmp_path / "audit-hmac.key"
    key.write_text(HMAC_KEY + "\n")
    signing = tmp_path / "audit-signing.pem"
    if not signing.exists():
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(signing)], check=True,
                       capture_output=True)
    extra: dict = {"audit": {"store": str(store or tmp_path / "audit.db"), "key_file": str(key),
                             "key_id": "test-1", "signing_key_file": str(signing),
                             "checkpoint_interval_ms": checkpoint_interval_ms}}
    if policy:
        policy_path = tmp_path / "policy.yaml"
        policy_path.write_text(POLICY)
        extra["policy_file"] = str(policy_path)
    return extra


def phigate_audit(itest_env, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(itest_env.phigate_bin), "audit", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def raw_audit_records(itest_env, gateway, *args: str) -> list[dict]:
    """Every record of the gateway's audit log (optionally filtered by export flags), as stored."""
    done = phigate_audit(itest_env, "export", "--config", str(gateway.config_path), *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def expand_item(item: dict, common: list[dict]) -> dict:
    """A `statements` item with the parts it shares with other items (its record's `common` entry) put back:
    each section is the entry's fields (normalized text, key id and maybe the text's HMAC; the decision; maybe
    the outcome's command and SQLSTATE, for an item that has an outcome), then the item's own."""
    if "common" not in item:
        return item
    entry = common[item["common"]]
    out = {key: value for key, value in item.items() if key != "common"}
    for section in ("statement", "decision", "outcome"):
        if section in entry and (section != "outcome" or section in item):
            out[section] = {**entry[section], **item.get(section, {})}
    return out


def audit_records(itest_env, gateway, *args: str) -> list[dict]:
    """Like raw_audit_records, with each item of a `statements` record as a record of its own (the record's
    seq, session and who, the item's time, kind and sections, its common parts put back)."""
    out = []
    for record in raw_audit_records(itest_env, gateway, *args):
        if record["kind"] != "statements":
            out.append(record)
            continue
        shared = {key: value for key, value in record.items() if key not in ("items", "common")}
        out.extend({**shared, **expand_item(item, record.get("common", []))} for item in record["items"])
    return out


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_trail_of_allowed_and_denied_statements_names_the_person(gateway, psql, itest_env, tmp_path):
    gw = gateway(extra=audit_extra(tmp_path))
    done = psql(gw, gw.login("bob"), "-c", f"SELECT count(*) FROM patients WHERE ssn = '{SECRET_LITERAL}'")
    assert done.stdout.strip().isdigit()
    refused = psql(gw, gw.login("carol"), "-c", "SELECT * FROM patients", check=False)
    assert refused.returncode != 0 and "billing staff never see patient records" in refused.stderr
    failed = psql(gw, gw.login("bob"), "-c", "SELECT 1", password="wrong-password", check=False)
    assert failed.returncode != 0

    # Ordinary records are committed within the writer's commit delay: wait for the last one of the three
    # sessions (bob's failed login), which follows the others in the log.
    def complete_trail():
        found = audit_records(itest_env, gw)
        failed_login = [r for r in found if r["kind"] == "authentication" and r["result"] == "failed"]
        return found if failed_login and any(r["kind"] in FINISHED for r in found) else None

    records = wait_for(complete_trail, what="the trail up to bob's failed login")
    raw = json.dumps(records)
    assert SECRET_LITERAL not in raw, "a literal reached the audit log without keep_literals"

    bob_decision = next(r for r in records if r["kind"] in DECIDED and r["who"]["person"] == "bob")
    assert bob_decision["decision"]["verdict"] == "allow"
    assert bob_decision["decision"]["rule"] == "clinical-read"
    assert bob_decision["decision"]["kinds"] == ["read"]
    assert "patients" in bob_decision["decision"]["tables"]
    assert bob_decision["who"]["groups"] == ["clinical"]
    assert bob_decision["who"]["database"] == DATABASE
    assert bob_decision["who"]["upstream_role"] == "clinical_reader"
    assert bob_decision["who"]["client"].startswith("127.0.0.1:")
    assert bob_decision["who"]["application"] == "psql"
    statement = bob_decision["statement"]
    assert statement["normalized"] == "SELECT count(*) FROM patients WHERE ssn = $1"
    assert len(statement["text_hmac"]) == 64 and statement["key_id"] == "test-1"
    assert "session" in bob_decision

    outcome = next(r for r in records if r["kind"] in FINISHED and r["who"]["person"] == "bob")
    assert outcome["outcome"]["rows"] == 1 and outcome["outcome"]["sqlstate"] == "00000"
    assert outcome["outcome"]["command"] == "SELECT"
    assert outcome["statement"]["text_hmac"] == statement["text_hmac"]
    assert outcome["session"] == bob_decision["session"]

    carol_decision = next(r for r in records if r["kind"] in DECIDED and r["who"]["person"] == "carol")
    assert carol_decision["decision"]["verdict"] == "deny"
    assert carol_decision["decision"]["rule"] == "billing-no-patients"
    assert carol_decision["decision"]["sqlstate"] == "42501"
    assert carol_decision["who"]["upstream_role"] == "app_writer"

    auth = [(r["who"]["person"], r["result"]) for r in records if r["kind"] == "authentication"]
    assert ("bob", "ok") in auth and ("carol", "ok") in auth and ("bob", "failed") in auth
    assert records[0]["kind"] == "gateway_start"
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))


def test_prepared_executions_carry_the_hmac_of_their_parameters(gateway, itest_env, tmp_path):
    """pgbench -M prepared: Parse once, then Bind and Execute per transaction. Each execution's decision
    carries the keyed HMAC of the Bind's parameters (count, then format:length:value per parameter), never
    the value itself; the Parse's decision has none."""
    gw = gateway(extra=audit_extra(tmp_path))
    script = tmp_path / "prepared.sql"
    script.write_text("\\set v 4242\nSELECT count(*) FROM patients WHERE id = :v;\n")
    login = gw.login("bob")
    done = subprocess.run(["pgbench", "-n", "-M", "prepared", "-h", gw.host, "-p", str(gw.port), "-U",
                           login.user, "-f", str(script), "-t", "3", "-c", "1", DATABASE],
                          capture_output=True, text=True, timeout=60,
                          env=client_environment(login.password, PGSSLMODE="disable"))
    assert done.returncode == 0, done.stdout + done.stderr

    def decisions():
        found = [r for r in audit_records(itest_env, gw)
                 if r["kind"] in DECIDED and r["who"]["person"] == "bob"
                 and r["statement"].get("normalized") == "SELECT count(*) FROM patients WHERE id = $1"]
        return found if len(found) >= 4 else None

    found = wait_for(decisions, what="bob's prepared statement decisions")
    expected = hmac.new(HMAC_KEY.encode(), b"1;0:4:4242;", hashlib.sha256).hexdigest()
    with_params = [r for r in found if "params_hmac" in r["statement"]]
    assert len(with_params) == 3, found  # one per Execute
    assert all(r["statement"]["params_hmac"] == expected for r in with_params)
    assert len(found) - len(with_params) == 1  # the Parse
    assert "4242" not in json.dumps(found)
    # One text for all four: the HMAC of what pgbench sent (with a shared record, once in its common part).
    text = hmac.new(HMAC_KEY.encode(), b"SELECT count(*) FROM patients WHERE id = $1;", hashlib.sha256)
    assert {r["statement"]["text_hmac"] for r in found} == {text.hexdigest()}


def test_keep_literals_stores_the_exact_text(gateway, psql, itest_env, tmp_path):
    extra = audit_extra(tmp_path)
    extra["audit"]["keep_literals"] = True
    gw = gateway(extra=extra)
    psql(gw, gw.login("bob"), "-c", f"SELECT count(*) FROM patients WHERE ssn = '{SECRET_LITERAL}'")
    # Allowed statements are committed within the writer's commit delay, not before psql returns.
    decisions = wait_for(lambda: [r for r in audit_records(itest_env, gw) if r["kind"] in DECIDED],
                         what="bob's decision record")
    assert SECRET_LITERAL in decisions[0]["statement"]["text"]


def test_each_statement_is_decided_and_finished_once_together_or_apart(gateway, psql, itest_env, tmp_path):
    gw = gateway(extra=audit_extra(tmp_path))
    count = 20
    psql(gw, gw.login("bob"), *[arg for i in range(count) for arg in ("-c", f"SELECT {i} AS n")])
    assert gw.stop() is None  # writes everything queued
    raw = [r for r in raw_audit_records(itest_env, gw) if r.get("who", {}).get("person") == "bob"]
    # psql runs them back to back, far faster than the writer's 50 ms gathering: they share records.
    assert any(r["kind"] == "statements" and len(r["items"]) > 1 for r in raw), [r["kind"] for r in raw]
    grouped = next(r for r in raw if r["kind"] == "statements" and len(r["items"]) > 1)
    # One normalized text and one decision for all of them: written once, in the record's common part.
    assert grouped["common"][0]["statement"]["normalized"] == "SELECT $1 AS n", grouped
    assert grouped["common"][0]["decision"]["rule"] == "clinical-read"
    assert all(item["common"] == 0 for item in grouped["items"] if item["kind"] in DECIDED)
    done = phigate_audit(itest_env, "export", "--config", str(gw.config_path), "--format", "csv", "--identity",
                         "bob")
    assert done.returncode == 0, done.stderr
    decided_rows = [row for row in csv.DictReader(io.StringIO(done.stdout)) if row["kind"] in DECIDED]
    assert len(decided_rows) == count
    assert all(row["normalized"] == "SELECT $1 AS n" and row["rule"] == "clinical-read" for row in decided_rows)
    records = [r for r in audit_records(itest_env, gw)
               if r.get("who", {}).get("person") == "bob" and "statement" in r]
    by_text: dict[str, list[dict]] = {}
    for r in records:
        by_text.setdefault(r["statement"]["text_hmac"], []).append(r)
    assert len(by_text) == count
    for trail in by_text.values():
        assert [r["decision"]["verdict"] for r in trail if r["kind"] in DECIDED] == ["allow"], trail
        assert [r["outcome"]["rows"] for r in trail if r["kind"] in FINISHED] == [1], trail
        assert [r["kind"] for r in trail] in (["statement"], ["decision", "outcome"]), trail
    assert sum(r["kind"] == "statement" for r in records) >= count // 2, [r["kind"] for r in records]
    done = phigate_audit(itest_env, "verify", "--config", str(gw.config_path))
    assert done.returncode == 0, done.stdout + done.stderr


def traffic(gw, psql, count: int = 6) -> None:
    for i in range(count):
        psql(gw, gw.login("bob"), "-c", f"SELECT {i} FROM patients LIMIT 1")


def stopped_log(gateway, psql, tmp_path) -> tuple[object, pathlib.Path]:
    """A gateway that served some statements and stopped (so its final checkpoint is signed)."""
    gw = gateway(extra=audit_extra(tmp_path))
    traffic(gw, psql)
    assert gw.stop() is None
    return gw, tmp_path / "audit.db"


TAMPERING = {
    "flipped byte": ("UPDATE audit_records SET body = replace(body, '\"verdict\":\"allow\"', "
                     "'\"verdict\":\"allov\"') WHERE seq = (SELECT min(seq) FROM audit_records "
                     "WHERE kind IN ('decision', 'statement', 'statements'))", "altered"),
    "deleted record": ("DELETE FROM audit_records WHERE seq = 5", "missing"),
    "reordered records": ("UPDATE audit_records SET seq = -4 WHERE seq = 4; UPDATE audit_records SET seq = 4 "
                          "WHERE seq = 5; UPDATE audit_records SET seq = 5 WHERE seq = -4", "out of place"),
    "inserted record": ("UPDATE audit_records SET seq = -seq WHERE seq >= 6; UPDATE audit_records SET seq = "
                        "1 - seq WHERE seq < 0; INSERT INTO audit_records SELECT 6, time_us, kind, person, body, "
                        "hash FROM audit_records WHERE seq = 2", "out of place"),
    "truncated below the checkpoint": ("DELETE FROM audit_records WHERE seq > 3; DELETE FROM audit_checkpoints",
                                       "truncated"),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_verify_passes_then_names_the_first_bad_record(gateway, psql, itest_env, tmp_path, kind):
    gw, store = stopped_log(gateway, psql, tmp_path)
    public = tmp_path / "audit-public.pem"
    subprocess.run(["openssl", "pkey", "-in", str(tmp_path / "audit-signing.pem"), "-pubout", "-out", str(public)],
                   check=True, capture_output=True)
    good = phigate_audit(itest_env, "verify", "--config", str(gw.config_path), "--public-key", str(public))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.splitlines()[0].endswith("chain intact")

    sql, expected = TAMPERING[kind]
    with sqlite3.connect(store) as db:
        db.executescript(sql)
    db.close()
    bad = phigate_audit(itest_env, "verify", "--config", str(gw.config_path), "--public-key", str(public))
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "TAMPERED" in bad.stdout and expected in bad.stdout, bad.stdout
    assert "first bad record: " in bad.stdout


def test_verify_by_store_path_reports_an_unverified_tail(gateway, psql, itest_env, tmp_path):
    gw = gateway(extra=audit_extra(tmp_path, checkpoint_interval_ms=86_400_000))
    traffic(gw, psql, 2)
    done = phigate_audit(itest_env, "verify", "--store", str(tmp_path / "audit.db"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unverified tail" in done.stdout


def test_kill_9_during_pgbench_leaves_a_log_that_verifies(gateway, itest_env, tmp_path):
    gw = gateway(extra=audit_extra(tmp_path, policy=False, checkpoint_interval_ms=300))
    script = tmp_path / "select.sql"
    script.write_text("SELECT count(*) FROM patients WHERE id = 1;\n")
    login = gw.login("alice")
    bench = subprocess.Popen(["pgbench", "-n", "-h", gw.host, "-p", str(gw.port), "-U", login.user, "-f",
                              str(script), "-T", "20", "-c", "4", "-j", "2", DATABASE],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=client_environment(login.password, PGSSLMODE="disable"))
    try:
        store = tmp_path / "audit.db"
        wait_for(lambda: store.exists() and _count(store) > 500, timeout=30, what="audit records from pgbench")
        gw.process.send_signal(signal.SIGKILL)
        gw.process.wait(timeout=10)
        gw.stopped = True
    finally:
        bench.wait(timeout=60)
    done = phigate_audit(itest_env, "verify", "--config", str(gw.config_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].startswith(f"{store}: OK:")


def _count(store: pathlib.Path) -> int:
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT count(*) FROM audit_records").fetchone()[0]
    except sqlite3.Error:
        return 0


def _refused_with_58030(gw, psql) -> bool:
    done = psql(gw, gw.login("bob"), "-c", "SELECT 1", check=False, on_error_stop=True)
    if done.returncode == 0:
        return False
    assert "audit log is unavailable" in done.stderr, done.stderr
    return True


def _pump(gw, psql, count: int) -> bool:
    """Statements that may be refused; always False so it can pad a wait_for predicate."""
    for i in range(count):
        psql(gw, gw.login("bob"), "-c", f"SELECT {i}, repeat('x', 2000)", check=False)
    return False


def _accepted(gw, psql) -> bool:
    return psql(gw, gw.login("bob"), "-c", "SELECT 1", check=False).returncode == 0


@pytest.fixture
def small_filesystem(tmp_path):
    """A 4 MB tmpfs mounted under tmp_path (root only), unmounted afterwards."""
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_a_store_on_a_read_only_filesystem_stops_the_gateway_from_starting(gateway_launcher, psql, itest_env,
                                                                          tmp_path, small_filesystem):
    # A filesystem cannot be remounted read-only under files open for writing, so the read-only case is the
    # store that is read-only when the gateway starts: it refuses to start rather than run unaudited.
    gw = gateway_launcher.start(extra=audit_extra(tmp_path, store=small_filesystem / "audit.db"))
    assert _accepted(gw, psql)
    assert gw.stop() is None
    subprocess.run(["mount", "-o", "remount,ro", str(small_filesystem)], check=True)
    try:
        path = gateway_launcher.write_config(
            gateway_launcher.config(extra=audit_extra(tmp_path, store=small_filesystem / "audit.db")), "ro")
        done = subprocess.run([str(itest_env.phigate_bin), "serve", "--config", str(path)], capture_output=True,
                              text=True, timeout=30, env={**os.environ, **{var: pw for var, pw in _role_env(itest_env)}})
        assert done.returncode == 1
        assert "cannot start: " in done.stderr and "audit store" in done.stderr and "audit.db" in done.stderr, \
            done.stderr
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_filesystem)], check=True)


def _role_env(itest_env):
    from itest_support import UPSTREAM_ROLES
    return [(var, itest_env.role_passwords[role]) for role, var in UPSTREAM_ROLES.items()]


def test_full_store_refuses_statements_until_space_is_freed(gateway, psql, itest_env, tmp_path,
                                                            small_filesystem):
    gw = gateway(extra=audit_extra(tmp_path, store=small_filesystem / "audit.db"))
    assert _accepted(gw, psql)
    filler = small_filesystem / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
    try:
        # The WAL reuses space it already has; enough statements make it need more.
        wait_for(lambda: _refused_with_58030(gw, psql) or _pump(gw, psql, 20), timeout=60,
                 what="statements refused on a full store")
    finally:
        filler.unlink()
    wait_for(lambda: _accepted(gw, psql), what="statements accepted again after space was freed")


def test_deleted_store_refuses_then_starts_a_new_file_that_verify_flags(gateway, psql, itest_env, tmp_path):
    gw = gateway(extra=audit_extra(tmp_path))
    traffic(gw, psql, 2)
    store = tmp_path / "audit.db"
    for suffix in ("", "-wal", "-shm"):
        pathlib.Path(f"{store}{suffix}").unlink(missing_ok=True)
    wait_for(lambda: "was deleted" in gw.log_text() or (_accepted(gw, psql) and False), what="deletion noticed")
    wait_for(lambda: _accepted(gw, psql), what="a new store file")
    assert store.exists()
    assert gw.stop() is None
    done = phigate_audit(itest_env, "verify", "--store", str(store))
    assert done.returncode == 1 and "missing" in done.stdout, done.stdout


def test_export_filters_by_identity_and_time_as_jsonl_and_csv(gateway, psql, itest_env, tmp_path):
    gw = gateway(extra=audit_extra(tmp_path))
    psql(gw, gw.login("bob"), "-c", "SELECT 1")
    psql(gw, gw.login("alice"), "-c", "SELECT 2")
    wait_for(lambda: any(r["kind"] in FINISHED and r["who"]["person"] == "alice"
                         for r in audit_records(itest_env, gw)), what="alice's outcome")
    bob = audit_records(itest_env, gw, "--identity", "bob")
    assert bob and all(r["who"]["person"] == "bob" for r in bob)
    assert {r["kind"] for r in bob} >= {"connection", "authentication"}
    assert any(r["kind"] in DECIDED for r in bob) and any(r["kind"] in FINISHED for r in bob)
    assert audit_records(itest_env, gw, "--since", "2999-01-01") == []
    assert audit_records(itest_env, gw, "--until", "2000-01-01T00:00:00Z") == []
    first = audit_records(itest_env, gw)[0]["time"]
    assert audit_records(itest_env, gw, "--since", first)[0]["time"] == first
    assert all(r["hash"] and r["prev"] for r in bob)

    done = phigate_audit(itest_env, "export", "--config", str(gw.config_path), "--format", "csv", "--identity",
                         "alice")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert rows and all(row["person"] == "alice" for row in rows)
    outcome = next(row for row in rows if row["kind"] in FINISHED)
    assert outcome["rows"] == "1" and outcome["sqlstate"] == "00000"
    bad = phigate_audit(itest_env, "export", "--config", str(gw.config_path), "--since", "last tuesday")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


def test_tail_prints_the_newest_records_and_follows(gateway, psql, itest_env, tmp_path):
    gw = gateway(extra=audit_extra(tmp_path))
    traffic(gw, psql, 2)
    # The follower must start after the traffic's records are committed (within the writer's commit delay).
    wait_for(lambda: len([r for r in audit_records(itest_env, gw) if r["kind"] in FINISHED]) >= 2,
             what="the outcome records of both statements")
    done = phigate_audit(itest_env, "tail", "--config", str(gw.config_path), "-n", "3")
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 3
    follower = subprocess.Popen([str(itest_env.phigate_bin), "audit", "tail", "--config", str(gw.config_path),
                                 "-n", "0", "-f"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        psql(gw, gw.login("carol"), "-c", "SELECT 1", check=False)  # refused by the policy, recorded all the same
        line = json.loads(follower.stdout.readline())
        assert line["who"]["person"] == "carol"
    finally:
        follower.kill()
        follower.wait()


def test_a_short_hmac_key_is_a_config_error_with_its_place(gateway_launcher, itest_env, tmp_path):
    extra = audit_extra(tmp_path)
    (tmp_path / "audit-hmac.key").write_text("short")
    path = gateway_launcher.write_config(gateway_launcher.config(extra=extra), "bad-audit")
    done = subprocess.run([str(itest_env.phigate_bin), "check", "--config", str(path)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 1
    assert "audit.key_file: the key must be at least 16 bytes" in done.stderr
    assert os.path.basename(path) in done.stderr
