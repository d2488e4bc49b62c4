"""pgbench through phigate: initialisation (DDL, client-side COPY, VACUUM) and select-only runs in each query
mode, with zero failed transactions."""

from __future__ import annotations

import re
import subprocess

import pytest

from itest_support import DATABASE, client_environment, run_psql

PGBENCH_TABLES = "pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers"
SCALE_ACCOUNTS = 100000  # pgbench creates 100000 accounts per unit of scale.


def pgbench(endpoint, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    login = endpoint.login("alice")
    command = ["pgbench", "-h", endpoint.host, "-p", str(endpoint.port), "-U", login.user, *args, DATABASE]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=client_environment(login.password, PGSSLMODE="disable"))


def drop_pgbench_tables(env) -> None:
    run_psql(env.upstream_host, env.upstream_port, env.upstream_login(), "-c",
             f"DROP TABLE IF EXISTS {PGBENCH_TABLES}")


@pytest.fixture(scope="module")
def initialised(itest_env, module_gateway):
    """pgbench -i -s 1 through the gateway; the tables are dropped straight upstream afterwards."""
    drop_pgbench_tables(itest_env)
    done = pgbench(module_gateway, "-i", "-s", "1")
    yield done
    drop_pgbench_tables(itest_env)


def test_pgbench_initialises_through_the_gateway(initialised, module_gateway, itest_env):
    assert initialised.returncode == 0, (f"pgbench -i failed\n{initialised.stdout}{initialised.stderr}\n"
                                         f"gateway log:\n{module_gateway.log_text()}")
    assert "done in" in initialised.stderr
    counts = run_psql(itest_env.upstream_host, itest_env.upstream_port, itest_env.upstream_login(), "-c",
                      "SELECT (SELECT count(*) FROM pgbench_accounts), "
                      "(SELECT count(*) FROM pgbench_branches), (SELECT count(*) FROM pgbench_tellers)")
    assert counts.stdout == f"{SCALE_ACCOUNTS}|1|10\n"


@pytest.mark.parametrize("protocol", ["simple", "extended", "prepared"])
def test_pgbench_select_only_run_has_no_failures(initialised, module_gateway, protocol):
    assert initialised.returncode == 0, "pgbench -i failed; see test_pgbench_initialises_through_the_gateway"
    done = pgbench(module_gateway, "-S", "-T", "5", "-c", "4", "-j", "2", "-M", protocol)
    report = done.stdout
    assert done.returncode == 0, f"{report}{done.stderr}\ngateway log:\n{module_gateway.log_text()}"
    assert f"query mode: {protocol}" in report
    assert "number of clients: 4" in report
    processed = re.search(r"^number of transactions actually processed: (\d+)$", report, re.M)
    failed = re.search(r"^number of failed transactions: (\d+) \(", report, re.M)
    tps = re.search(r"^tps = ([0-9.]+) \(without initial connection time\)$", report, re.M)
    assert processed and failed and tps, report
    assert int(failed.group(1)) == 0, report
    assert int(processed.group(1)) > 0, report
    assert float(tps.group(1)) > 0, report
