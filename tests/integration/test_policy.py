"""The policy file through phigate: refusals with SQLSTATE 42501 naming the rule, nothing of a refused
statement reaching the server, transaction state after a refusal, extended-protocol refusals through pgjdbc
(clients/PolicyClient.java), bypass attempts, benign statements, session search_path tracking, and policy
errors in `phigate check` and on reload."""

from __future__ import annotations

import pathlib
import re
import shutil
import signal
import subprocess
import time

import pytest

from itest_support import DATABASE, client_environment, gateway_only

PGJDBC_JAR = pathlib.Path("/usr/share/java/postgresql.jar")
CLIENT_SOURCE = pathlib.Path(__file__).parent / "clients" / "PolicyClient.java"

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
  - id: billing-ops
    groups: [billing]
    kinds: [read, write, session]
    tables: [public.clinics, public.inventory, pg_catalog.*]
    action: allow
  - id: ddl-held
    kinds: [ddl]
    action: hold
    approval: { groups: [dba-approvers], quorum: 1, timeout: 1s }
  - id: exports-held
    kinds: [export]
    action: hold
    approval: { groups: [approvers], quorum: 1, timeout: 1s }
"""
# Holds expire after a second here: nobody approves in these tests (tests/integration/test_approvals.py does).

# Statements that try to slip a write, an export or a side effect past a read-only analyst.
BYPASS_ATTEMPTS = {
    "delete in a CTE": "WITH d AS (DELETE FROM patients RETURNING *) SELECT count(*) FROM d",
    "delete inside COPY": "COPY (DELETE FROM patients RETURNING *) TO STDOUT",
    "server file read": "SELECT pg_read_file('/etc/passwd')",
    "set_config": "SELECT set_config('search_path', 'evil', false)",
    "anonymous code block": "DO $$ BEGIN DELETE FROM patients; END $$",
    "drop after a literal semicolon": "SELECT ';'; DROP TABLE patients",
    "drop after a dollar quote": "SELECT $$ ; $$; DROP TABLE patients",
    "grant after a nested comment": "SELECT /* /* */ ; */ 1; GRANT ALL ON patients TO PUBLIC",
    "terminate backends": "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
    "syntax error": "SELEC * FROM patients",
}

BENIGN = {
    "ddl in a string literal": ("SELECT 'DROP TABLE x'", "DROP TABLE x"),
    "pgbench -S shape": ("SELECT count(*) FROM patients WHERE id = 1", "1"),
    "keyword as a CTE name": ("WITH delete AS (SELECT 1 AS x) SELECT x FROM delete", "1"),
    "dollar quote": ("SELECT $$ ; ) DROP TABLE x; $$", " ; ) DROP TABLE x; "),
    "catalog lookup": ("SELECT count(*) > 0 FROM pg_catalog.pg_class", "t"),
}


@pytest.fixture(autouse=True)
def _needs_the_gateway(itest_env):
    gateway_only(itest_env)


@pytest.fixture
def policy_path(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture
def policy_gateway(gateway, policy_path):
    return gateway(extra={"policy_file": str(policy_path)})


def psql_verbose(psql, endpoint, user, *commands, **options):
    """Runs each command as its own Query in one session, with SQLSTATEs in the error lines."""
    args = ["-v", "VERBOSITY=verbose"]
    for command in commands:
        args += ["-c", command]
    options.setdefault("check", False)
    options.setdefault("on_error_stop", False)
    return psql(endpoint, endpoint.login(user), *args, **options)


def upstream_value(upstream_psql, sql: str) -> str:
    return upstream_psql("-c", sql).stdout.strip()


def test_held_ddl_that_nobody_approves_expires_and_never_reaches_the_server(psql, policy_gateway,
                                                                          upstream_psql):
    upstream_psql("-c", "DROP TABLE IF EXISTS policy_denied_t")
    done = psql_verbose(psql, policy_gateway, "alice", "CREATE TABLE policy_denied_t (id int)")
    assert done.returncode != 0
    assert "statement held for approval as request r-" in done.stderr, done.stderr
    assert re.search(r"ERROR:  42501: phigate: request r-\w+ \(rule ddl-held\) expired: no decision within 1s",
                     done.stderr), done.stderr
    assert upstream_value(upstream_psql, "SELECT to_regclass('public.policy_denied_t') IS NULL") == "t"


def test_default_deny_names_the_kind_and_rule(psql, policy_gateway, upstream_psql):
    before = upstream_value(upstream_psql, "SELECT count(*) FROM inventory")
    done = psql_verbose(psql, policy_gateway, "alice", "DELETE FROM inventory")
    expected = "ERROR:  42501: phigate: no rule allows write of public.inventory for alice on clinic"
    assert expected in done.stderr, done.stderr
    assert "(rule default-deny)" in done.stderr
    assert upstream_value(upstream_psql, "SELECT count(*) FROM inventory") == before


def test_denied_statement_inside_begin_aborts_the_transaction(psql, policy_gateway):
    done = psql_verbose(psql, policy_gateway, "alice", input="BEGIN;\nSELECT 1;\nDROP TABLE patients;\n"
                        "SELECT 2;\nROLLBACK;\nSELECT 3;\n")
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 2, done.stderr
    assert errors[0].startswith("ERROR:  42501: phigate:") and "rule ddl-held" in errors[0]
    assert errors[1].startswith("ERROR:  25P02:"), errors[1]
    assert done.stdout.split() == ["BEGIN", "1", "ROLLBACK", "3"], done.stdout


@pytest.mark.parametrize("name", sorted(BYPASS_ATTEMPTS))
def test_bypass_attempt_is_refused(psql, policy_gateway, upstream_psql, name):
    before = upstream_value(upstream_psql, "SELECT count(*) FROM patients")
    done = psql_verbose(psql, policy_gateway, "alice", BYPASS_ATTEMPTS[name])
    assert "ERROR:  42501: phigate:" in done.stderr, done.stderr
    assert re.search(r"\(rule [a-z-]+\)|\(rule [a-z-]+:", done.stderr), done.stderr
    assert upstream_value(upstream_psql, "SELECT count(*) FROM patients") == before
    assert upstream_value(upstream_psql, "SELECT has_table_privilege('public', 'patients', 'SELECT')") == "f"


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_statement_is_allowed(psql, policy_gateway, name):
    sql, expected = BENIGN[name]
    done = psql(policy_gateway, policy_gateway.login("bob"), "-c", sql)
    assert done.stdout.rstrip("\n") == expected


def test_table_rules_apply_to_the_person(psql, policy_gateway):
    done = psql_verbose(psql, policy_gateway, "carol", "SELECT count(*) FROM clinics",
                        "SELECT count(*) FROM patients", "SELECT count(*) FROM visits")
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 2, done.stderr
    assert "billing staff never see patient records" in errors[0] and "(rule billing-no-patients)" in errors[0]
    assert "(rule default-deny)" in errors[1]
    assert re.fullmatch(r"\d+\n", done.stdout), done.stdout


def test_search_path_changes_how_unqualified_names_resolve(psql, policy_gateway):
    done = psql_verbose(psql, policy_gateway, "carol", "SELECT count(*) > 0 FROM clinics",
                        "SET search_path = elsewhere, public", "SELECT count(*) > 0 FROM clinics",
                        "SELECT count(*) > 0 FROM public.clinics", "RESET search_path",
                        "SELECT count(*) > 0 FROM clinics")
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    # With elsewhere first, "clinics" may be elsewhere.clinics, which no rule allows carol to read.
    assert len(errors) == 1 and "(rule default-deny)" in errors[0], done.stderr
    assert done.stdout.split() == ["t", "SET", "t", "RESET", "t"], done.stdout


def test_pgbench_select_only_runs_through_the_policy(policy_gateway, upstream_psql, itest_env):
    if shutil.which("pgbench") is None:
        pytest.fail("pgbench is required (Debian: postgresql-client)")
    login = itest_env.upstream_login()
    init = subprocess.run(["pgbench", "-i", "-s", "1", "-q", "-h", itest_env.upstream_host, "-p",
                           str(itest_env.upstream_port), "-U", login.user, DATABASE],
                          env=client_environment(login.password), capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stderr
    alice = policy_gateway.login("alice")
    for mode in ("simple", "prepared"):
        done = subprocess.run(["pgbench", "-S", "-n", "-M", mode, "-t", "200", "-c", "2", "-h",
                               policy_gateway.host, "-p", str(policy_gateway.port), "-U", alice.user, DATABASE],
                              env=client_environment(alice.password), capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr + policy_gateway.log_text()
        assert "number of transactions actually processed: 400/400" in done.stdout, done.stdout
    # A write transaction is refused before anything reaches the server.
    done = subprocess.run(["pgbench", "-n", "-t", "1", "-h", policy_gateway.host, "-p", str(policy_gateway.port),
                           "-U", alice.user, DATABASE], env=client_environment(alice.password),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "rule default-deny" in done.stderr, done.stderr


@pytest.fixture(scope="module")
def policy_client_classes(tmp_path_factory) -> pathlib.Path:
    if shutil.which("javac") is None or not PGJDBC_JAR.exists():
        pytest.fail(f"javac and {PGJDBC_JAR} are required "
                    "(Debian: default-jdk-headless libpostgresql-jdbc-java)")
    classes = tmp_path_factory.mktemp("policy-client")
    done = subprocess.run(["javac", "-encoding", "UTF-8", "-d", str(classes), "-cp", str(PGJDBC_JAR),
                           str(CLIENT_SOURCE)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"javac failed:\n{done.stdout}{done.stderr}"
    return classes


def run_policy_client(classes, endpoint, user, *statements) -> list[str]:
    login = endpoint.login(user)
    url = (f"jdbc:postgresql://{endpoint.host}:{endpoint.port}/{DATABASE}?sslmode=disable&prepareThreshold=1"
           "&connectTimeout=10")
    done = subprocess.run(["java", "-cp", f"{classes}:{PGJDBC_JAR}", "PolicyClient", url, login.user,
                           login.password, *statements], capture_output=True, text=True, timeout=120,
                          env=client_environment())
    assert done.returncode == 0, done.stdout + done.stderr + endpoint.log_text()
    lines = done.stdout.splitlines()
    assert len(lines) == len(statements), lines
    return lines


def test_pgjdbc_extended_protocol_refusals(policy_gateway, policy_client_classes, upstream_psql):
    upstream_psql("-c", "DROP TABLE IF EXISTS policy_jdbc_t")
    lines = run_policy_client(
        policy_client_classes, policy_gateway, "alice",
        "SELECT id FROM patients WHERE id <= 3",
        "CREATE TABLE policy_jdbc_t (id int)",
        "COPY patients TO STDOUT",
        "SELECT 'DROP TABLE x'",
        "BEGIN",
        "SELECT 1",
        "UPDATE clinics SET name = name",
        "SELECT 1",
        "ROLLBACK",
        "SELECT 2")
    assert lines[0] == "OK 3"
    assert lines[1].startswith("ERROR 42501 ") and "rule ddl-held" in lines[1], lines[1]
    assert lines[2].startswith("ERROR 42501 ") and "rule exports-held" in lines[2], lines[2]
    assert lines[3] == "OK 1"
    assert lines[5] == "OK 1"
    assert lines[6].startswith("ERROR 42501 ") and "(rule default-deny)" in lines[6], lines[6]
    assert lines[7].startswith("ERROR 25P02 "), lines[7]
    assert lines[9] == "OK 1"
    assert upstream_value(upstream_psql, "SELECT to_regclass('public.policy_jdbc_t') IS NULL") == "t"


def phigate_check(itest_env, path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(itest_env.phigate_bin), "check", "--config", str(path)], capture_output=True,
                          text=True, timeout=30)


def test_check_reports_a_missing_policy_file_at_its_line(itest_env, gateway_launcher, tmp_path):
    path = gateway_launcher.write_config(gateway_launcher.config(extra={"policy_file": "absent.yaml"}), "nopol")
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("policy_file:"))
    done = phigate_check(itest_env, path)
    assert done.returncode == 1
    assert re.search(rf"{re.escape(str(path))}:{line}:\d+: policy_file: .*absent.yaml", done.stderr), done.stderr


def test_check_reports_policy_errors_at_their_line(itest_env, gateway_launcher, tmp_path):
    (tmp_path / "bad-policy.yaml").write_text("rules:\n  - id: a\n    action: allow\n    kinds: [reed]\n")
    path = gateway_launcher.write_config(gateway_launcher.config(extra={"policy_file": "bad-policy.yaml"}),
                                         "badpol")
    done = phigate_check(itest_env, path)
    assert done.returncode == 1
    assert f"{tmp_path / 'bad-policy.yaml'}:4:13: rules[0].kinds[0]: unknown kind 'reed'" in done.stderr, \
        done.stderr


def test_check_warns_without_a_policy_file(itest_env, gateway_launcher):
    path = gateway_launcher.write_config(gateway_launcher.config(), "open")
    done = phigate_check(itest_env, path)
    assert done.returncode == 0
    assert "no policy_file: every statement is allowed" in done.stdout + done.stderr


def test_reload_with_a_broken_policy_keeps_the_last_good_one(psql, policy_gateway, policy_path):
    policy_path.write_text(POLICY.replace("kinds: [read, session]", "kinds: [read, sesion]"))
    policy_gateway.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "keeping the last good configuration" not in policy_gateway.log_text():
        assert time.monotonic() < deadline, policy_gateway.log_text()
        time.sleep(0.05)
    assert "unknown kind 'sesion'" in policy_gateway.log_text()
    done = psql_verbose(psql, policy_gateway, "bob", "SELECT 1", "DROP TABLE patients")
    assert done.stdout.strip() == "1"
    assert "rule ddl-held" in done.stderr
    # A good policy takes effect for new sessions.
    policy_path.write_text(POLICY.replace("kinds: [read, session]", "kinds: [session]"))
    policy_gateway.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while policy_gateway.log_text().count("new sessions use it") < 1:
        assert time.monotonic() < deadline, policy_gateway.log_text()
        time.sleep(0.05)
    done = psql_verbose(psql, policy_gateway, "bob", "SELECT 1")
    assert "(rule default-deny)" in done.stderr, done.stderr
