"""psql through phigate: results, multi-statement queries, COPY, TLS, authentication errors, async messages
and protocol limits, each checked against what PostgreSQL itself does."""

from __future__ import annotations

import pathlib
import re
import signal
import socket
import subprocess
import time

import pytest

from itest_support import client_environment, conninfo, gateway_only

# Queries whose psql output through the gateway must equal the output straight from PostgreSQL.
REFERENCE_QUERIES = [
    "SELECT id, full_name, ssn, dob, phone, email, mrn, address, zip, notes FROM patients ORDER BY id",
    "SELECT * FROM clinics ORDER BY 1",
    "SELECT count(*) FROM visits",
    "SELECT 1::int, 'x'::text, NULL::text IS NULL, 1.50::numeric, '2024-02-29'::date, true, "
    "'\\x00ff'::bytea, ARRAY[1, 2, 3], '{\"a\": [1, 2]}'::jsonb, 'with\ttab and ''quote'''",
    "SELECT g, md5(g::text) FROM generate_series(1, 2000) AS g",
    # One 600 kB DataRow: larger than any single socket read or write.
    "SELECT repeat('ab', 300000)",
    # psql's catalog queries.
    "\\d patients",
]

SCRATCH_TABLE = "itest_copy_scratch"
PATIENT_COLUMNS = "id, full_name, ssn, dob, phone, email, mrn, address, zip, notes"


def auth_failure_line(endpoint, user: str) -> str:
    """psql's whole stderr when PostgreSQL rejects a password (and, identically, an unknown user)."""
    return (f'psql: error: connection to server at "{endpoint.host}", port {endpoint.port} failed: '
            f'FATAL:  password authentication failed for user "{user}"')


def ssl_line(conninfo_output: str) -> str:
    lines = [line for line in conninfo_output.splitlines() if line.startswith("SSL connection")]
    return lines[0] if lines else ""


@pytest.mark.parametrize("query", REFERENCE_QUERIES,
                         ids=["patients", "clinics", "visits", "types", "2000-rows", "600kB-value",
                              "describe-patients"])
def test_select_returns_the_same_rows_as_postgres(gateway, psql, upstream_psql, query):
    gw = gateway()
    expected = upstream_psql("-c", query).stdout
    assert expected, "reference query returned nothing"
    assert psql(gw, gw.login("alice"), "-c", query).stdout == expected


def test_multi_statement_query_returns_every_result(gateway, psql):
    gw = gateway()
    done = psql(gw, gw.login("alice"), "-c", "SELECT 1; SELECT 2; SELECT 'three'")
    assert done.stdout == "1\n2\nthree\n"


def test_error_mid_multi_statement_skips_the_rest_rolls_back_and_keeps_the_session(gateway, psql):
    gw = gateway()
    done = psql(gw, gw.login("alice"),
                "-c", "SELECT set_config('itest.marker', 'set', false); SELECT 1/0; SELECT 3",
                "-c", "SELECT coalesce(current_setting('itest.marker', true), '<null>')",
                "-c", "SELECT 4", on_error_stop=False)
    # 'set' came back before the error, SELECT 3 never ran, the implicit transaction (and with it the
    # setting) rolled back, and the same session answered the following queries.
    assert done.stdout == "set\n\n4\n"
    assert "ERROR:  division by zero" in done.stderr


def test_error_mid_multi_statement_stops_psql_with_on_error_stop(gateway, psql):
    gw = gateway()
    done = psql(gw, gw.login("alice"), "-c", "SELECT 1; SELECT 1/0; SELECT 3", "-c", "SELECT 4", check=False)
    assert done.returncode == 1
    assert done.stdout == "1\n"
    assert done.stderr.strip() == "ERROR:  division by zero"


def test_copy_out_of_patients_matches_postgres(gateway, psql, upstream_psql, tmp_path):
    gw = gateway()
    through = tmp_path / "through.csv"
    direct = tmp_path / "direct.csv"
    psql(gw, gw.login("alice"), "-c", f"\\copy patients ({PATIENT_COLUMNS}) TO '{through}' WITH (FORMAT csv)")
    upstream_psql("-c", f"\\copy patients ({PATIENT_COLUMNS}) TO '{direct}' WITH (FORMAT csv)")
    assert direct.read_bytes(), "patients is empty upstream"
    assert through.read_bytes() == direct.read_bytes()


def test_copy_to_stdout_of_a_query_matches_postgres(gateway, psql, upstream_psql):
    gw = gateway()
    command = "COPY (SELECT g, g * 2, repeat('y', g % 50) FROM generate_series(1, 20000) AS g) TO STDOUT"
    through = psql(gw, gw.login("alice"), "-c", command).stdout
    assert len(through.splitlines()) == 20000
    assert through == upstream_psql("-c", command).stdout


@pytest.fixture
def scratch_table(upstream_psql):
    """A real table shaped like patients, created and dropped straight upstream by the clinic owner."""
    upstream_psql("-c", f"DROP TABLE IF EXISTS {SCRATCH_TABLE}",
                  "-c", f"CREATE TABLE {SCRATCH_TABLE} AS SELECT {PATIENT_COLUMNS} FROM patients "
                        "WITH NO DATA")
    yield SCRATCH_TABLE
    upstream_psql("-c", f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")


def test_copy_round_trips_a_table_in_both_directions(gateway, psql, upstream_psql, scratch_table, tmp_path):
    gw = gateway()
    alice = gw.login("alice")
    source = tmp_path / "patients.csv"
    back = tmp_path / "back.csv"
    upstream_psql("-c", f"\\copy (SELECT {PATIENT_COLUMNS} FROM patients ORDER BY id) TO '{source}' CSV")

    rows = int(upstream_psql("-c", "SELECT count(*) FROM patients").stdout)

    done = psql(gw, alice, "-c", f"\\copy {scratch_table} FROM '{source}' WITH (FORMAT csv)")
    assert done.stdout == f"COPY {rows}\n"
    psql(gw, alice, "-c", f"\\copy (SELECT * FROM {scratch_table} ORDER BY id) TO '{back}' WITH (FORMAT csv)")
    assert back.read_bytes() == source.read_bytes()
    # The rows really landed upstream.
    assert upstream_psql("-c", f"SELECT count(*) FROM {scratch_table}").stdout == f"{rows}\n"


def test_copy_binary_format_round_trips(gateway, psql, upstream_psql, scratch_table, tmp_path):
    gw = gateway()
    alice = gw.login("alice")
    binary = tmp_path / "patients.bin"
    upstream_psql("-c", f"INSERT INTO {scratch_table} SELECT {PATIENT_COLUMNS} FROM patients")
    expected = upstream_psql("-c", f"SELECT * FROM {scratch_table} ORDER BY id").stdout

    psql(gw, alice, "-c", f"\\copy {scratch_table} TO '{binary}' WITH (FORMAT binary)")
    assert binary.read_bytes().startswith(b"PGCOPY\n\xff\r\n\x00")
    upstream_psql("-c", f"TRUNCATE {scratch_table}")
    psql(gw, alice, "-c", f"\\copy {scratch_table} FROM '{binary}' WITH (FORMAT binary)")
    assert upstream_psql("-c", f"SELECT * FROM {scratch_table} ORDER BY id").stdout == expected


def test_copy_from_stdin_into_a_temporary_table(gateway, psql):
    gw = gateway()
    lines = "".join(f"{i}\tname {i}\t2024-01-{i % 28 + 1:02d}\n" for i in range(1, 5001))
    done = psql(gw, gw.login("alice"),
                "-c", "CREATE TEMP TABLE itest_stdin (id int, name text, day date)",
                "-c", "\\copy itest_stdin FROM pstdin",
                "-c", "SELECT count(*), sum(id), count(DISTINCT day) FROM itest_stdin", input=lines)
    assert done.stdout.splitlines() == ["CREATE TABLE", "COPY 5000", "5000|12502500|28"]


def test_copy_from_stdin_error_is_reported_and_the_session_continues(gateway, psql):
    gw = gateway()
    done = psql(gw, gw.login("alice"),
                "-c", "CREATE TEMP TABLE itest_bad (id int)",
                "-c", "\\copy itest_bad FROM pstdin",
                "-c", "SELECT count(*) FROM itest_bad", input="1\n2\nnot-a-number\n4\n", on_error_stop=False)
    assert 'invalid input syntax for type integer: "not-a-number"' in done.stderr
    assert done.stdout.splitlines() == ["CREATE TABLE", "0"]


def test_tls_with_sslmode_require(gateway, psql):
    gw = gateway(tls=True)
    done = psql(gw, gw.login("alice"), "-c", "\\conninfo", "-c", "SELECT 42", sslmode="require")
    assert ssl_line(done.stdout).startswith("SSL connection (protocol: TLSv1."), done.stdout
    assert done.stdout.splitlines()[-1] == "42"


def test_tls_with_sslmode_verify_full_against_the_test_ca(gateway, psql, itest_env):
    gw = gateway(tls=True)
    gw.host = "localhost"
    done = psql(gw, gw.login("alice"), "-c", "\\conninfo", "-c", "SELECT 'verified'", sslmode="verify-full",
                sslrootcert=itest_env.cert("ca.crt"))
    assert ssl_line(done.stdout).startswith("SSL connection (protocol: TLSv1."), done.stdout
    assert 'on host "localhost"' in done.stdout
    assert done.stdout.splitlines()[-1] == "verified"


def test_verify_full_fails_against_an_unrelated_ca(gateway, psql, itest_env, tmp_path):
    gw = gateway(tls=True)
    gw.host = "localhost"
    # A CA that did not sign the gateway's certificate must not validate it.
    done = psql(gw, gw.login("alice"), "-c", "SELECT 1", sslmode="verify-full",
                sslrootcert=_unrelated_ca(tmp_path), check=False)
    assert done.returncode == 2
    assert "certificate verify failed" in done.stderr


def _unrelated_ca(tmp_path: pathlib.Path) -> pathlib.Path:
    key = tmp_path / "other-ca.key"
    cert = tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=itest unrelated CA"],
                   check=True, capture_output=True)
    return cert


def test_without_tls_configured_sslmode_require_is_refused(gateway, psql, itest_env):
    gateway_only(itest_env)
    gw = gateway(tls=False)
    done = psql(gw, gw.login("alice"), "-c", "SELECT 1", sslmode="require", check=False)
    assert done.returncode == 2
    assert "server does not support SSL, but SSL was required" in done.stderr


def test_tls_required_refuses_a_plaintext_client_and_serves_a_tls_one(gateway, psql, itest_env):
    gateway_only(itest_env)
    gw = gateway(tls=True, tls_required=True)
    refused = psql(gw, gw.login("alice"), "-c", "SELECT 1", sslmode="disable", check=False)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "FATAL:" in refused.stderr
    served = psql(gw, gw.login("alice"), "-c", "SELECT 'tls'", sslmode="require")
    assert served.stdout == "tls\n"


@pytest.mark.parametrize("sslmode", ["disable", "require"])
def test_wrong_password_fails_with_the_postgres_message(gateway, psql, sslmode):
    gw = gateway(tls=True)
    login = gw.login("alice")
    done = psql(gw, login, "-c", "SELECT 1", password="not-the-password", sslmode=sslmode, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == auth_failure_line(gw, login.user)


def test_unknown_user_fails_with_the_same_message_as_a_wrong_password(gateway, psql):
    gw = gateway()
    login = gw.login("mallory")
    done = psql(gw, login, "-c", "SELECT 1", check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == auth_failure_line(gw, "mallory")


def test_libpq_session_settings_reach_the_session(gateway, psql):
    gw = gateway()
    # libpq sends these as startup parameters (PGTZ as "timezone", PGDATESTYLE as "datestyle").
    environment = {"PGTZ": "America/New_York", "PGDATESTYLE": "SQL, DMY", "PGCLIENTENCODING": "LATIN1",
                   "PGAPPNAME": "itest-app"}
    done = psql(gw, gw.login("alice"), "-c",
                "SELECT current_setting('TimeZone'), current_setting('DateStyle'), "
                "current_setting('client_encoding'), current_setting('application_name'), '2024-02-29'::date",
                extra_env=environment)
    assert done.stdout == "America/New_York|SQL, DMY|LATIN1|itest-app|29/02/2024\n"


def test_notice_is_relayed(gateway, psql):
    gw = gateway()
    done = psql(gw, gw.login("alice"), "-c", "DO $$ BEGIN RAISE NOTICE 'hi'; END $$", "-c", "SELECT 'after'")
    assert done.stdout == "DO\nafter\n"
    assert done.stderr == "NOTICE:  hi\n"


def test_listen_notify_is_relayed_within_a_session(gateway, psql):
    gw = gateway()
    done = psql(gw, gw.login("alice"), "-c", "LISTEN itest_channel",
                "-c", "NOTIFY itest_channel, 'payload-1'", "-c", "SELECT 'after'")
    lines = done.stdout.splitlines()
    assert lines[:2] == ["LISTEN", "NOTIFY"]
    assert re.fullmatch(r'Asynchronous notification "itest_channel" with payload "payload-1" received from '
                        r'server process with PID \d+\.', lines[2]), lines
    assert lines[3:] == ["after"]


def test_ctrl_c_cancels_a_running_statement(gateway, upstream_psql):
    gw = gateway()
    login = gw.login("alice")
    marker = "itest-cancel-marker"
    client = subprocess.Popen(
        ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", conninfo(gw.host, gw.port, login),
         "-c", f"SELECT pg_sleep(30) /* {marker} */"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=client_environment(login.password, PGSSLMODE="disable"))
    try:
        _wait_until_running(upstream_psql, marker)
        started = time.monotonic()
        client.send_signal(signal.SIGINT)  # psql answers Ctrl-C with a libpq CancelRequest.
        stdout, stderr = client.communicate(timeout=10)
    finally:
        if client.poll() is None:
            client.kill()
            client.communicate()
    assert time.monotonic() - started < 5
    assert client.returncode == 1
    assert stdout == ""
    assert "ERROR:  canceling statement due to user request" in stderr
    assert upstream_psql("-c", "SELECT count(*) FROM pg_stat_activity "
                               f"WHERE query LIKE '%{marker}%' AND pid <> pg_backend_pid()").stdout == "0\n"


def _wait_until_running(upstream_psql, marker: str) -> None:
    deadline = time.monotonic() + 10
    query = f"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%{marker} */'"
    while time.monotonic() < deadline:
        if upstream_psql("-c", query).stdout == "1\n":
            return
        time.sleep(0.1)
    pytest.fail("the statement to cancel never started upstream")


def test_replication_startup_is_refused(gateway, psql):
    gw = gateway()
    done = psql(gw, gw.login("alice"), "-c", "IDENTIFY_SYSTEM", conn_params={"replication": "database"},
                check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "FATAL:" in done.stderr
    # The refusal ended one connection, not the gateway.
    assert psql(gw, gw.login("alice"), "-c", "SELECT 'still serving'").stdout == "still serving\n"


def test_message_over_max_message_bytes_closes_the_connection_not_the_gateway(gateway, psql, itest_env,
                                                                              tmp_path):
    gateway_only(itest_env)
    limit = 64 * 1024
    gw = gateway(max_message_bytes=limit)
    script = tmp_path / "huge.sql"
    script.write_text(f"SELECT length('{'a' * (limit // 2)}');\n"
                      f"SELECT length('{'b' * (limit * 3)}');\n"
                      "SELECT 'not reached';\n")
    started = time.monotonic()
    done = psql(gw, gw.login("alice"), "-v", "VERBOSITY=verbose", "-f", str(script), check=False, timeout=30)
    # A message under the limit went through; the oversized one ended the session (psql exit 2: connection
    # lost) with a protocol violation error, and nothing after it ran.
    assert done.stdout == f"{limit // 2}\n"
    assert done.returncode == 2, done.stderr
    assert "08P01" in done.stderr or re.search(r"too (large|long)|exceeds|max_message", done.stderr, re.I), \
        done.stderr
    assert time.monotonic() - started < 10
    assert gw.alive()
    assert psql(gw, gw.login("alice"), "-c", "SELECT 'next client'").stdout == "next client\n"


def test_startup_timeout_drops_a_silent_connection(gateway, psql, itest_env):
    gateway_only(itest_env)
    gw = gateway(startup_timeout_ms=500)
    started = time.monotonic()
    with socket.create_connection((gw.host, gw.port), timeout=10) as silent:
        received = b""
        while chunk := silent.recv(4096):  # Sends nothing; reads until the gateway closes.
            received += chunk
    assert 0.4 <= time.monotonic() - started < 5
    # Nothing but, at most, an ErrorResponse ('E') may precede the close.
    assert received == b"" or received.startswith(b"E"), received
    assert psql(gw, gw.login("alice"), "-c", "SELECT 'next'").stdout == "next\n"


def test_idle_timeout_closes_an_idle_session(gateway, psql):
    gw = gateway(idle_timeout_ms=1000)
    # Direct mode checks the same client-side story with PostgreSQL's own idle_session_timeout.
    params = {"options": "'-c idle_session_timeout=1000'"} if gw.direct else {}
    done = psql(gw, gw.login("alice"), "-c", "SELECT 'before'", "-c", "\\! sleep 3", "-c", "SELECT 'after'",
                conn_params=params, check=False, timeout=30)
    assert done.stdout == "before\n"
    assert done.returncode == 2, done.stderr
    assert psql(gw, gw.login("alice"), "-c", "SELECT 'fresh'").stdout == "fresh\n"


def test_a_reader_mapped_user_runs_as_its_upstream_role(gateway, psql):
    gw = gateway()
    done = psql(gw, gw.login("bob"), "-c", "SELECT current_user, session_user")
    assert done.stdout == "clinical_reader|clinical_reader\n"
    denied = psql(gw, gw.login("bob"), "-c", "DELETE FROM inventory WHERE false", check=False)
    assert denied.returncode != 0
    assert "permission denied" in denied.stderr or "42501" in denied.stderr


@pytest.mark.parametrize("mode", ["disable", "prefer", "require", "verify-full"])
def test_upstream_tls_modes_connect(gateway, psql, itest_env, upstream_psql, mode):
    gateway_only(itest_env)
    overrides = {"upstream_tls": mode}
    if mode in ("require", "verify-full"):
        probe = upstream_psql("-c", "SELECT 1", sslmode=mode, sslrootcert=itest_env.cert("ca.crt"),
                              check=False)
        if probe.returncode != 0:
            pytest.skip(f"upstream PostgreSQL does not accept sslmode={mode}: {probe.stderr.strip()}")
    if mode == "verify-full":
        overrides["upstream_ca_file"] = itest_env.cert("ca.crt").resolve()
    gw = gateway(**overrides)
    done = psql(gw, gw.login("alice"), "-c", "SELECT count(*) FROM patients")
    assert done.stdout == upstream_psql("-c", "SELECT count(*) FROM patients").stdout
