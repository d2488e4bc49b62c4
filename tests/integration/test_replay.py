"""Capture and replay: sessions captured through phigate replay against PostgreSQL directly and through phigate
with the same command tags, row counts and row digests; a pgbench-style import replayed in compare mode."""

from __future__ import annotations

import json
import pathlib
import stat
import subprocess

import pytest

from itest_support import DATABASE, PHIGATE_USERS, client_environment, run_psql

# A psql session with simple queries, a failing statement, a transaction and COPY FROM STDIN data.
PSQL_SCRIPT = """\
SELECT id, full_name, ssn FROM patients ORDER BY id LIMIT 5;
SELECT count(*) FROM visits;
SELECT no_such_column FROM patients;
BEGIN;
CREATE TEMP TABLE replay_scratch (id int, note text);
COPY replay_scratch FROM STDIN;
1\tfirst
2\tsecond
\\.
SELECT * FROM replay_scratch ORDER BY id;
COMMIT;
SELECT name FROM clinics ORDER BY id;
"""

# Extended protocol with named prepared statements (pgbench -M prepared).
PGBENCH_SCRIPT = """\
\\set id random(1, 200)
SELECT id, full_name, phone FROM patients WHERE id = :id;
SELECT count(*) FROM visits WHERE patient_id = :id;
"""


def phigate(env, *args: str, timeout: float = 120, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(env.phigate_bin), *args], capture_output=True, text=True, timeout=timeout,
                          env=client_environment(**(extra_env or {})))


def direct_target(env, name: str = "direct") -> str:
    return (f"{name}=host={env.upstream_host} port={env.upstream_port} user={env.upstream_user} "
            f"password={env.upstream_password} dbname={DATABASE} sslmode=disable")


def gateway_target(endpoint, person: str, name: str = "phigate") -> str:
    password = PHIGATE_USERS[person][0]
    return f"{name}=host={endpoint.host} port={endpoint.port} user={person} password={password} dbname={DATABASE}"


def read_results(path: pathlib.Path) -> list[tuple]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [(r["session"], r["step"], r["tags"], r["rows"], r["digest"], r["sqlstate"]) for r in rows]


@pytest.fixture
def captured(gateway, itest_env, tmp_path):
    """A capture of alice's psql and pgbench sessions through phigate; bob's session is not captured."""
    capture_file = tmp_path / "sessions.pgcap"
    endpoint = gateway(extra={"capture": {"file": str(capture_file), "identities": ["alice"]}})
    run_psql(endpoint.host, endpoint.port, endpoint.login("alice"), input=PSQL_SCRIPT, on_error_stop=False)
    run_psql(endpoint.host, endpoint.port, endpoint.login("bob"), "-c", "SELECT 'bob was here'")
    script = tmp_path / "lookup.pgbench"
    script.write_text(PGBENCH_SCRIPT)
    login = endpoint.login("alice")
    done = subprocess.run(["pgbench", "-n", "-h", endpoint.host, "-p", str(endpoint.port), "-U", login.user, "-M",
                           "prepared", "-c", "2", "-t", "5", "-f", str(script), DATABASE],
                          capture_output=True, text=True, timeout=120,
                          env=client_environment(login.password, PGSSLMODE="disable"))
    assert done.returncode == 0, done.stdout + done.stderr
    # Stopping the gateway flushes the capture.
    assert endpoint.stop() is None
    return capture_file


def test_capture_records_only_the_chosen_identity_to_a_private_file(require_gateway, captured, itest_env):
    assert stat.S_IMODE(captured.stat().st_mode) == 0o600
    assert captured.read_bytes().startswith(b"PHIGATE-CAPTURE 1\n")
    shown = phigate(itest_env, "replay", "show", str(captured), "--messages")
    assert shown.returncode == 0, shown.stderr
    sessions = [line for line in shown.stdout.splitlines() if line.startswith("session ")]
    # psql, pgbench's two clients, and pgbench's own first connection (which only logs in and out).
    assert len(sessions) >= 3, shown.stdout
    assert all("user=alice" in line and f"database={DATABASE}" in line for line in sessions)
    assert "bob was here" not in shown.stdout
    assert "SELECT id, full_name, ssn FROM patients ORDER BY id LIMIT 5" in shown.stdout
    assert "] SELECT id, full_name, phone FROM patients WHERE id = $1" in shown.stdout  # pgbench's Parse


def test_replay_reproduces_the_same_results_directly_and_through_phigate(require_gateway, captured, gateway,
                                                                          itest_env, tmp_path):
    direct_results = tmp_path / "direct.jsonl"
    done = phigate(itest_env, "replay", "run", str(captured), "--target", direct_target(itest_env),
                   "--connections", "2", "--results", str(direct_results), "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    endpoint = gateway()
    gateway_results = tmp_path / "phigate.jsonl"
    done = phigate(itest_env, "replay", "run", str(captured), "--target", gateway_target(endpoint, "alice"),
                   "--connections", "2", "--results", str(gateway_results), "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr + endpoint.log_text()

    direct = read_results(direct_results)
    through = read_results(gateway_results)
    assert direct == through
    tags = [row[2] for row in direct]
    # psql's session: every statement back with its original answer, the failing one with its SQLSTATE.
    assert tags[:2] == ["SELECT 5", "SELECT 1"]
    assert ("42703" in [row[5] for row in direct])
    assert "COPY 2" in tags and "SELECT 2" in tags and "COMMIT" in tags
    assert tags.count("SELECT 1") == 1 + 2 * 5 * 2  # psql's count and every pgbench lookup
    assert len(direct) == 9 + 2 * 5 * 2


def test_compare_mode_runs_every_target_without_errors_and_writes_the_report(require_gateway, gateway, itest_env,
                                                                             tmp_path):
    script = tmp_path / "lookup.pgbench"
    script.write_text(PGBENCH_SCRIPT)
    capture_file = tmp_path / "imported.pgcap"
    done = phigate(itest_env, "replay", "import", str(script), "--output", str(capture_file), "--clients", "3",
                   "--transactions", "20", "--protocol", "extended", "--database", DATABASE)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(capture_file.stat().st_mode) == 0o600
    endpoint = gateway()
    report = tmp_path / "report.json"
    chart = tmp_path / "chart.svg"
    markdown = tmp_path / "report.md"
    done = phigate(itest_env, "replay", "run", str(capture_file), "--target", direct_target(itest_env),
                   "--target", gateway_target(endpoint, "alice"), "--connections", "2", "--rounds", "2",
                   "--json", str(report), "--svg", str(chart), "--markdown", str(markdown), "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr + endpoint.log_text()
    document = json.loads(report.read_text())
    assert [t["name"] for t in document["targets"]] == ["direct", "phigate"]
    for target in document["targets"]:
        assert target["errors"] == 0, target
        assert target["rounds"] == 2
        assert target["total"]["count"] == 2 * 3 * 20 * 2
        assert set(target["by_kind"]) == {"read"}
    assert document["ratios"][0]["target"] == "phigate"
    assert chart.read_text().startswith("<svg")
    assert "| phigate ÷ direct |" in markdown.read_text()
    assert markdown.read_text() in done.stdout


def test_a_capture_section_naming_both_file_and_dir_is_refused(require_gateway, gateway_launcher, itest_env,
                                                                tmp_path):
    config = gateway_launcher.config(extra={"capture": {"file": str(tmp_path / "a"), "dir": str(tmp_path)}})
    path = gateway_launcher.write_config(config, "capture-both")
    done = phigate(itest_env, "check", "--config", str(path))
    assert done.returncode == 1
    assert "capture: give file or dir, not both" in done.stderr
