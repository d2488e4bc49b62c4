"""pgjdbc through phigate: binary-transfer prepared statements, batches, extended-protocol errors, result
metadata and cancellation (clients/PgjdbcClient.java, compiled per session)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

from itest_support import DATABASE, Endpoint, Login, client_environment

PGJDBC_JAR = pathlib.Path("/usr/share/java/postgresql.jar")
CLIENT_SOURCE = pathlib.Path(__file__).parent / "clients" / "PgjdbcClient.java"

# Number of PASS lines each mode prints when every check holds (see clients/PgjdbcClient.java).
EXPECTED_PASS_COUNT = {"prepared": 45, "batch": 6, "errors": 11, "metadata": 22, "cancel": 3}
MODES = sorted(EXPECTED_PASS_COUNT)


@pytest.fixture(scope="session")
def pgjdbc_classes(tmp_path_factory) -> pathlib.Path:
    if shutil.which("javac") is None or not PGJDBC_JAR.exists():
        pytest.fail(f"javac and {PGJDBC_JAR} are required "
                    "(Debian: default-jdk-headless libpostgresql-jdbc-java)")
    classes = tmp_path_factory.mktemp("pgjdbc-classes")
    done = subprocess.run(["javac", "-encoding", "UTF-8", "-d", str(classes), "-cp", str(PGJDBC_JAR),
                           str(CLIENT_SOURCE)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"javac failed:\n{done.stdout}{done.stderr}"
    return classes


def jdbc_url(host: str, port: int, **params: str) -> str:
    settings = {"prepareThreshold": "1", "binaryTransfer": "true", "connectTimeout": "10", **params}
    return f"jdbc:postgresql://{host}:{port}/{DATABASE}?" + "&".join(f"{k}={v}" for k, v in settings.items())


def run_client(classes: pathlib.Path, mode: str, url: str, login: Login, endpoint: Endpoint) -> list[str]:
    command = ["java", "-cp", f"{classes}:{PGJDBC_JAR}", "PgjdbcClient", mode, url, login.user,
               login.password]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=client_environment())
    assert done.returncode == 0, (f"PgjdbcClient {mode} exited with {done.returncode}\n"
                                  f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}\n"
                                  f"gateway log:\n{endpoint.log_text()}")
    lines = done.stdout.splitlines()
    passes = [line for line in lines if line.startswith("PASS ")]
    assert not [line for line in lines if line.startswith("FAIL")], lines
    assert len(passes) == EXPECTED_PASS_COUNT[mode], lines
    return lines


@pytest.mark.parametrize("mode", MODES)
def test_pgjdbc_mode_passes_without_tls(gateway, pgjdbc_classes, mode):
    gw = gateway()
    run_client(pgjdbc_classes, mode, jdbc_url(gw.host, gw.port, sslmode="disable"), gw.login("alice"), gw)


@pytest.mark.parametrize("mode", MODES)
def test_pgjdbc_mode_passes_with_sslmode_require(gateway, pgjdbc_classes, mode):
    gw = gateway(tls=True)
    run_client(pgjdbc_classes, mode, jdbc_url(gw.host, gw.port, sslmode="require"), gw.login("alice"), gw)


def test_pgjdbc_verify_full_with_the_test_ca(gateway, pgjdbc_classes, itest_env):
    gw = gateway(tls=True)
    url = jdbc_url("localhost", gw.port, sslmode="verify-full", sslrootcert=str(itest_env.cert("ca.crt")))
    run_client(pgjdbc_classes, "prepared", url, gw.login("alice"), gw)


def test_pgjdbc_metadata_matches_postgres(gateway, pgjdbc_classes, itest_env):
    gw = gateway()
    through = run_client(pgjdbc_classes, "metadata", jdbc_url(gw.host, gw.port, sslmode="disable"),
                         gw.login("alice"), gw)
    direct = run_client(pgjdbc_classes, "metadata",
                        jdbc_url(itest_env.upstream_host, itest_env.upstream_port, sslmode="disable"),
                        itest_env.upstream_login(), gw)
    columns = [line for line in through if line.startswith("COLUMN ")]
    assert len(columns) == 10
    assert columns == [line for line in direct if line.startswith("COLUMN ")]


def test_pgjdbc_wrong_password_reports_28P01(gateway, pgjdbc_classes):
    gw = gateway()
    login = gw.login("alice")
    command = ["java", "-cp", f"{pgjdbc_classes}:{PGJDBC_JAR}", "PgjdbcClient", "prepared",
               jdbc_url(gw.host, gw.port, sslmode="disable"), login.user, "wrong-password"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=client_environment())
    assert done.returncode == 3
    assert f'FATAL: password authentication failed for user "{login.user}"' in done.stderr
    assert "sqlstate: 28P01" in done.stderr
