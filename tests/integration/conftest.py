"""Fixtures for the phigate integration suite.

scripts/test starts a real PostgreSQL 15 with the `clinic` database and exports the variables read by
`itest_env`. Every test talks to a phigate process started by the `gateway` factory, through real clients.

PHIGATE_ITEST_DIRECT=1 points every endpoint at the upstream PostgreSQL itself, with the phigate users mapped
to their upstream roles. It exists only to validate the client programs and psql commands against the real
database; tests of gateway-only behaviour skip in that mode. See README.md.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
from typing import Any, Callable

import pytest

from itest_support import (PHIGATE_USERS, Endpoint, GatewayLauncher, ItestEnv, Login, gateway_only, load_env,
                           missing_env_reason, run_phigate_passwd, run_psql, scram_verifier_line)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = missing_env_reason()
    if reason is None:
        return
    for item in items:
        item.add_marker(pytest.mark.skip(reason=reason))


def pytest_report_header(config: pytest.Config) -> str:
    if os.environ.get("PHIGATE_ITEST_DIRECT") == "1":
        return "phigate integration: DIRECT mode (clients talk to upstream PostgreSQL, gateway tests skip)"
    return f"phigate integration: gateway {os.environ.get('PHIGATE_BIN', '<unset>')}"


@pytest.fixture(scope="session")
def itest_env() -> ItestEnv:
    reason = missing_env_reason()
    if reason is not None:
        pytest.skip(reason)
    return load_env()


@pytest.fixture
def require_gateway(itest_env: ItestEnv) -> None:
    gateway_only(itest_env)


@pytest.fixture(scope="session")
def phigate_verifiers(itest_env: ItestEnv) -> dict[str, str]:
    """SCRAM verifiers for PHIGATE_USERS, made once per session by `phigate passwd`."""
    if itest_env.direct:
        return {}
    verifiers = {}
    for name, (password, _, _) in PHIGATE_USERS.items():
        done = run_phigate_passwd(itest_env.phigate_bin, password)
        assert done.returncode == 0, f"phigate passwd failed: {done.stderr}"
        verifiers[name] = scram_verifier_line(done.stdout)
    return verifiers


@pytest.fixture
def gateway(itest_env: ItestEnv, phigate_verifiers: dict[str, str], tmp_path: pathlib.Path):
    """Factory: gateway(tls=..., max_message_bytes=..., idle_timeout_ms=..., upstream_tls=...) -> Endpoint.

    Every gateway started by the test is stopped afterwards; one that died on its own fails the test.
    """
    launcher = GatewayLauncher(itest_env, phigate_verifiers, tmp_path)
    yield launcher.start
    complaints = launcher.close()
    if complaints:
        pytest.fail("\n".join(complaints))


@pytest.fixture
def gateway_launcher(itest_env: ItestEnv, phigate_verifiers: dict[str, str], tmp_path: pathlib.Path):
    """The launcher behind `gateway`, for tests that need config files without a running gateway."""
    launcher = GatewayLauncher(itest_env, phigate_verifiers, tmp_path)
    yield launcher
    complaints = launcher.close()
    if complaints:
        pytest.fail("\n".join(complaints))


@pytest.fixture(scope="module")
def module_gateway(itest_env: ItestEnv, phigate_verifiers: dict[str, str], tmp_path_factory):
    """One default gateway shared by a module's tests (for expensive set-ups such as pgbench -i)."""
    launcher = GatewayLauncher(itest_env, phigate_verifiers, tmp_path_factory.mktemp("gateway"))
    yield launcher.start()
    complaints = launcher.close()
    if complaints:
        pytest.fail("\n".join(complaints))


PsqlRunner = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def psql() -> PsqlRunner:
    """psql(endpoint, login, *args, **options) through an endpoint; see run_psql for the options."""

    def run(endpoint: Endpoint, login: Login, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
        options.setdefault("context", lambda: f"gateway log:\n{endpoint.log_text()}")
        return run_psql(endpoint.host, endpoint.port, login, *args, **options)

    return run


@pytest.fixture
def upstream_psql(itest_env: ItestEnv) -> PsqlRunner:
    """psql(*args, **options) straight to the upstream as the clinic owner.

    For reference answers, set-up and clean-up: never through the gateway.
    """

    def run(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
        return run_psql(itest_env.upstream_host, itest_env.upstream_port, itest_env.upstream_login(), *args,
                        **options)

    return run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for name in ("gateway", "gateway_launcher"):
        value = item.funcargs.get(name) if hasattr(item, "funcargs") else None
        launcher = getattr(value, "__self__", value)
        for gateway in getattr(launcher, "started", []):
            report.sections.append((f"phigate log ({gateway.config_path.name})", gateway.log_text()[-20000:]))

