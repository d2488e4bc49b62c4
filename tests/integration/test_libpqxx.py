"""libpqxx through phigate: prepared statements, pipelined queries and COPY streaming
(clients/pqxx_client.cpp, built by CMake as the pqxx_client target)."""

from __future__ import annotations

import pathlib
import subprocess

import pytest

from itest_support import client_environment, conninfo

# Number of PASS lines each mode prints when every check holds (see clients/pqxx_client.cpp).
EXPECTED_PASS_COUNT = {"prepared": 13, "pipeline": 11, "stream": 5}


@pytest.fixture(scope="session")
def pqxx_client(itest_env) -> pathlib.Path:
    if itest_env.build_dir is None:
        pytest.fail("PHIGATE_BUILD_DIR is not set: it names the CMake build holding "
                    "tests/integration/pqxx_client")
    binary = itest_env.build_dir / "tests" / "integration" / "pqxx_client"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: build it with cmake --build <dir> --target pqxx_client")
    return binary


def run_pqxx_client(binary: pathlib.Path, mode: str, dsn: str, context: str) -> list[str]:
    done = subprocess.run([str(binary), mode, dsn], capture_output=True, text=True, timeout=120,
                          env=client_environment())
    assert done.returncode == 0, (f"pqxx_client {mode} exited with {done.returncode}\n"
                                  f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}\n{context}")
    return done.stdout.splitlines()


@pytest.mark.parametrize("mode", ["prepared", "pipeline", "stream"])
def test_libpqxx_client_mode_passes_through_the_gateway(gateway, pqxx_client, mode):
    gw = gateway()
    login = gw.login("alice")
    dsn = conninfo(gw.host, gw.port, login, password=login.password, sslmode="disable")
    lines = run_pqxx_client(pqxx_client, mode, dsn, gw.log_text())
    assert all(line.startswith("PASS ") for line in lines), lines
    assert len(lines) == EXPECTED_PASS_COUNT[mode], lines


@pytest.mark.parametrize("mode", ["prepared", "stream"])
def test_libpqxx_client_mode_passes_over_tls(gateway, pqxx_client, itest_env, mode):
    gw = gateway(tls=True)
    login = gw.login("alice")
    dsn = conninfo("localhost", gw.port, login, password=login.password, sslmode="verify-full",
                   sslrootcert=str(itest_env.cert("ca.crt")))
    lines = run_pqxx_client(pqxx_client, mode, dsn, gw.log_text())
    assert all(line.startswith("PASS ") for line in lines), lines
    assert len(lines) == EXPECTED_PASS_COUNT[mode], lines
