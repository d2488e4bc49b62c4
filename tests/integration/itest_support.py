"""Helpers shared by the phigate integration tests: environment, gateway processes and client runners.

conftest.py turns these into fixtures; test modules import the plain helpers (Login, gateway_only, ...).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import signal
import subprocess
import time
from typing import Any, Callable

import pytest

DATABASE = "clinic"
READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
CLIENT_TIMEOUT_S = 120.0

# phigate users created for every gateway: name -> (password, upstream role, groups).
PHIGATE_USERS: dict[str, tuple[str, str, list[str]]] = {
    "alice": ("alice-Secret-7Qk", "clinic_owner", ["clinical"]),
    "bob": ("bob-Secret-3Zr", "clinical_reader", ["clinical"]),
    "carol": ("carol-Secret-9Lm", "app_writer", ["billing"]),
}

# Admin API bearer tokens given by `gateway(admin=True)`: identity -> (token, groups added on the token).
ADMIN_TOKENS: dict[str, tuple[str, list[str]]] = {
    "alice": ("alice-admin-token-4Fv", ["approvers"]),
    "bob": ("bob-admin-token-8Wq", ["approvers"]),
    "carol": ("carol-admin-token-2Jd", []),
}

# Upstream roles phigate may use, with the environment variable that carries each password.
UPSTREAM_ROLES: dict[str, str] = {
    "clinical_reader": "PHIGATE_ROLE_CLINICAL_READER",
    "app_writer": "PHIGATE_ROLE_APP_WRITER",
    "clinic_owner": "PHIGATE_ROLE_CLINIC_OWNER",
}

# libpq variables that would otherwise leak from the caller's shell into client behaviour.
_LIBPQ_VARIABLES = (
    "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGSERVICE",
    "PGSERVICEFILE", "PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGSSLCRL", "PGREQUIRESSL",
    "PGGSSENCMODE", "PGOPTIONS", "PGAPPNAME", "PGTARGETSESSIONATTRS", "PGCHANNELBINDING", "PGCLIENTENCODING",
    "PGDATESTYLE", "PGTZ", "PGGEQO", "PGCONNECT_TIMEOUT",
)


@dataclasses.dataclass(frozen=True)
class Login:
    """Credentials a client presents."""

    user: str
    password: str


@dataclasses.dataclass(frozen=True)
class ItestEnv:
    """What scripts/test exported, read once per session."""

    phigate_bin: pathlib.Path | None
    build_dir: pathlib.Path | None
    certs: pathlib.Path | None
    upstream_host: str
    upstream_port: int
    upstream_user: str
    upstream_password: str
    role_passwords: dict[str, str]
    direct: bool

    def upstream_login(self) -> Login:
        return Login(self.upstream_user, self.upstream_password)

    def cert(self, name: str) -> pathlib.Path:
        if self.certs is None:
            pytest.fail("PHIGATE_TEST_CERTS is not set; TLS tests need ca.crt, server.crt and server.key")
        return self.certs / name


def missing_env_reason() -> str | None:
    direct = os.environ.get("PHIGATE_ITEST_DIRECT") == "1"
    missing = [name for name in ("UPSTREAM_PG_PORT",) if not os.environ.get(name)]
    if not direct and not os.environ.get("PHIGATE_BIN"):
        missing.insert(0, "PHIGATE_BIN")
    if missing:
        return (f"integration suite needs {', '.join(missing)}: run it through scripts/test, which starts "
                "PostgreSQL and exports the environment (see tests/integration/README.md)")
    return None


def load_env() -> ItestEnv:
    """Reads the variables exported by scripts/test (call only when missing_env_reason() is None)."""
    binary = os.environ.get("PHIGATE_BIN")
    build_dir = os.environ.get("PHIGATE_BUILD_DIR")
    certs = os.environ.get("PHIGATE_TEST_CERTS")
    upstream_user = os.environ.get("UPSTREAM_PG_USER", "clinic_owner")
    role_passwords = {role: os.environ.get(var, "") for role, var in UPSTREAM_ROLES.items()}
    upstream_password = os.environ.get("UPSTREAM_PG_PASSWORD", role_passwords.get(upstream_user, ""))
    return ItestEnv(
        phigate_bin=pathlib.Path(binary) if binary else None,
        build_dir=pathlib.Path(build_dir) if build_dir else None,
        certs=pathlib.Path(certs) if certs else None,
        upstream_host=os.environ.get("UPSTREAM_PG_HOST", "127.0.0.1"),
        upstream_port=int(os.environ["UPSTREAM_PG_PORT"]),
        upstream_user=upstream_user,
        upstream_password=upstream_password,
        role_passwords=role_passwords,
        direct=os.environ.get("PHIGATE_ITEST_DIRECT") == "1",
    )


def gateway_only(env: ItestEnv) -> None:
    """Skips the calling test in direct mode: what it checks exists only in phigate."""
    if env.direct:
        pytest.skip("checks gateway behaviour; PHIGATE_ITEST_DIRECT=1 talks to PostgreSQL directly")


def run_phigate_passwd(binary: pathlib.Path, password: str) -> subprocess.CompletedProcess[str]:
    """Runs `phigate passwd` with the password on stdin, exactly as `printf '%s' PW | phigate passwd`."""
    return subprocess.run([str(binary), "passwd"], input=password, capture_output=True, text=True,
                          timeout=30, check=False)


def scram_verifier_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("SCRAM-SHA-256$")]
    assert len(lines) == 1, f"expected one SCRAM-SHA-256 verifier line, got: {output!r}"
    return lines[0].strip()


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    # A JSON string literal is a valid YAML double-quoted scalar.
    return json.dumps(str(value))


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for the dict/list/scalar trees used as gateway configs."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 2))
            elif isinstance(item, list):
                lines.append(f"{pad}{key}: []")
            else:
                lines.append(f"{pad}{key}: {_yaml_scalar(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)):
                nested = to_yaml(item, indent + 2).lstrip()
                lines.append(f"{pad}- {nested}")
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    return "\n".join(lines)


def _merge(base: dict, overrides: dict) -> dict:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class Endpoint:
    """Where clients connect: a running phigate, or (direct mode) the upstream PostgreSQL."""

    host = "127.0.0.1"
    port: int
    direct: bool

    def login(self, name: str) -> Login:
        raise NotImplementedError

    def log_text(self) -> str:
        raise NotImplementedError

    def alive(self) -> bool:
        raise NotImplementedError

    def stop(self) -> str | None:
        raise NotImplementedError


class Gateway(Endpoint):
    """A phigate process started by GatewayLauncher."""

    direct = False

    def __init__(self, process: subprocess.Popen, port: int, config_path: pathlib.Path,
                 log_path: pathlib.Path) -> None:
        self.process = process
        self.port = port
        self.config_path = config_path
        self.log_path = log_path
        self.stopped = False
        self.admin_port: int | None = None  # from the ready file, when the config has `admin:`

    def login(self, name: str) -> Login:
        if name in PHIGATE_USERS:
            return Login(name, PHIGATE_USERS[name][0])
        return Login(name, "no-such-user-password")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> str | None:
        """SIGTERM, then SIGKILL if phigate has not exited within STOP_TIMEOUT_S.

        Returns a complaint when the shutdown was not clean (needed SIGKILL, or a non-zero exit status).
        """
        if self.stopped or self.process.poll() is not None:
            self.stopped = True
            return None
        self.stopped = True
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)
            return f"phigate did not exit within {STOP_TIMEOUT_S}s of SIGTERM\n{self.log_text()}"
        if status != 0:
            return f"phigate exited with status {status} after SIGTERM\n{self.log_text()}"
        return None


class DirectEndpoint(Endpoint):
    """Direct mode: the upstream PostgreSQL, with phigate users mapped to their upstream roles."""

    direct = True

    def __init__(self, env: ItestEnv) -> None:
        self.host = env.upstream_host
        self.port = env.upstream_port
        self.env = env

    def login(self, name: str) -> Login:
        if name in PHIGATE_USERS:
            role = PHIGATE_USERS[name][1]
            return Login(role, self.env.role_passwords[role])
        return Login(name, "no-such-user-password")

    def log_text(self) -> str:
        return "(direct mode: no gateway log)"

    def alive(self) -> bool:
        return True

    def stop(self) -> str | None:
        return None


class GatewayLauncher:
    """Writes gateway configs and starts phigate processes; stops every one of them on close()."""

    def __init__(self, env: ItestEnv, verifiers: dict[str, str], workdir: pathlib.Path) -> None:
        self.env = env
        self.verifiers = verifiers
        self.workdir = workdir
        self.started: list[Gateway] = []

    def config(self, *, tls: bool = False, tls_required: bool = False, max_message_bytes: int = 1048576,
               idle_timeout_ms: int = 0, startup_timeout_ms: int = 10000, upstream_tls: str = "prefer",
               upstream_ca_file: pathlib.Path | None = None, workers: int = 2, admin: bool = False,
               extra: dict | None = None) -> dict:
        """The config tree for one gateway; keyword arguments are the per-test overrides."""
        upstream: dict[str, Any] = {"host": self.env.upstream_host, "port": self.env.upstream_port,
                                    "tls": upstream_tls}
        if upstream_ca_file is not None:
            upstream["ca_file"] = str(upstream_ca_file)
        config: dict[str, Any] = {
            "listen": {"postgres": "127.0.0.1:0"},
            "workers": workers,
            "limits": {"max_message_bytes": max_message_bytes, "startup_timeout_ms": startup_timeout_ms,
                       "idle_timeout_ms": idle_timeout_ms},
            "upstream": upstream,
            "roles": {role: {"user": role, "password_env": var} for role, var in UPSTREAM_ROLES.items()},
            "users": {name: {"password": self.verifiers.get(name, ""), "groups": groups, "role": role}
                      for name, (_, role, groups) in PHIGATE_USERS.items()},
            "log": {"level": "debug"},
        }
        if admin:
            tokens = [{"identity": name, "token_sha256": hashlib.sha256(token.encode()).hexdigest(),
                       "groups": groups} for name, (token, groups) in ADMIN_TOKENS.items()]
            config["admin"] = {"listen": "127.0.0.1:0", "public_url": "http://127.0.0.1:6480", "tokens": tokens}
        if tls:
            config["tls"] = {"cert_file": str(self.env.cert("server.crt").resolve()),
                             "key_file": str(self.env.cert("server.key").resolve()), "required": tls_required}
        return _merge(config, extra or {})

    def write_config(self, config: dict, name: str) -> pathlib.Path:
        path = self.workdir / f"{name}.yaml"
        path.write_text(to_yaml(config) + "\n")
        return path

    def start(self, **overrides: Any) -> Endpoint:
        """Starts phigate with the overrides of config() and waits for its ready file."""
        if self.env.direct:
            if overrides.get("tls"):
                _require_upstream_tls(self.env)
            return DirectEndpoint(self.env)
        index = len(self.started)
        config_path = self.write_config(self.config(**overrides), f"phigate-{index}")
        ready_path = self.workdir / f"phigate-{index}.ready.json"
        log_path = self.workdir / f"phigate-{index}.log"
        ready_path.unlink(missing_ok=True)  # A stale file would hand out a dead port.
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(self.env.phigate_bin), "serve", "--config", str(config_path), "--ready-file",
                 str(ready_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=_gateway_environment(self.env))
        gateway = Gateway(process, 0, config_path, log_path)
        self.started.append(gateway)
        gateway.port = _wait_for_ready(gateway, ready_path)
        return gateway

    def close(self) -> list[str]:
        """Stops every gateway; returns a complaint for each one that had exited by itself or did not stop
        cleanly on SIGTERM."""
        complaints = []
        for gateway in self.started:
            if not gateway.stopped and gateway.process.poll() is not None:
                complaints.append(f"phigate {gateway.config_path.name} exited by itself with status "
                                  f"{gateway.process.returncode}\n{gateway.log_text()}")
            complaint = gateway.stop()
            if complaint:
                complaints.append(f"{gateway.config_path.name}: {complaint}")
        return complaints


def _gateway_environment(env: ItestEnv) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in _LIBPQ_VARIABLES}
    for role, var in UPSTREAM_ROLES.items():
        environment[var] = env.role_passwords[role]
    return environment


def _wait_for_ready(gateway: Gateway, ready_path: pathlib.Path) -> int:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if gateway.process.poll() is not None:
            gateway.stopped = True  # Reported here; close() need not report it again.
            pytest.fail(f"phigate exited with status {gateway.process.returncode} before it was ready\n"
                        f"config:\n{gateway.config_path.read_text()}\nlog:\n{gateway.log_text()}")
        if ready_path.exists():
            try:
                ready = json.loads(ready_path.read_text())
                gateway.admin_port = ready.get("admin_port")
                return int(ready["postgres_port"])
            except (ValueError, KeyError):
                pass  # Written but not complete yet: read again on the next turn.
        time.sleep(0.05)
    gateway.stop()
    pytest.fail(f"phigate wrote no ready file within {READY_TIMEOUT_S}s\nlog:\n{gateway.log_text()}")


_upstream_tls_probe: dict[str, bool] = {}


def _require_upstream_tls(env: ItestEnv) -> None:
    """Direct mode only: TLS checks need the upstream itself to serve TLS with the test certificate."""
    if "verify-full" not in _upstream_tls_probe:
        done = subprocess.run(
            ["psql", "-X", "-At", "-c", "SELECT 1",
             f"host=localhost port={env.upstream_port} dbname={DATABASE} user={env.upstream_user} "
             f"sslmode=verify-full sslrootcert={env.cert('ca.crt')}"],
            env=client_environment(env.upstream_password), capture_output=True, text=True, timeout=30)
        _upstream_tls_probe["verify-full"] = done.returncode == 0
    if not _upstream_tls_probe["verify-full"]:
        pytest.skip("direct mode: upstream PostgreSQL does not serve TLS with the PHIGATE_TEST_CERTS "
                    "certificate")


def client_environment(password: str | None = None, **extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in _LIBPQ_VARIABLES}
    environment["PGCONNECT_TIMEOUT"] = "10"
    if password is not None:
        environment["PGPASSWORD"] = password
    environment.update(extra)
    return environment


def conninfo(endpoint_host: str, port: int, login: Login, **params: str) -> str:
    parts = {"host": endpoint_host, "port": str(port), "dbname": DATABASE, "user": login.user, **params}
    return " ".join(f"{key}={value}" for key, value in parts.items())


def run_psql(host: str, port: int, login: Login, *args: str, sslmode: str = "disable",
             sslrootcert: pathlib.Path | None = None, password: str | None = None, input: str | None = None,
             check: bool = True, on_error_stop: bool = True, conn_params: dict[str, str] | None = None,
             extra_env: dict[str, str] | None = None,
             timeout: float = CLIENT_TIMEOUT_S, context: Callable[[], str] = lambda: ""
             ) -> subprocess.CompletedProcess[str]:
    """Runs `psql -X -v ON_ERROR_STOP=1 -At <conninfo> ARGS` with PGPASSWORD/PGSSLMODE/PGSSLROOTCERT set.

    check=True fails the test (with both streams and `context()`, e.g. the gateway log) on a non-zero exit.
    """
    extra = {"PGSSLMODE": sslmode, **(extra_env or {})}
    if sslrootcert is not None:
        extra["PGSSLROOTCERT"] = str(sslrootcert)
    command = ["psql", "-X", "-At"]
    if on_error_stop:
        command += ["-v", "ON_ERROR_STOP=1"]
    command += [conninfo(host, port, login, **(conn_params or {})), *args]
    done = subprocess.run(command, input=input, capture_output=True, text=True, timeout=timeout,
                          env=client_environment(login.password if password is None else password, **extra))
    if check and done.returncode != 0:
        pytest.fail(f"psql exited with {done.returncode}: {command}\nstdout:\n{done.stdout}\n"
                    f"stderr:\n{done.stderr}\n{context()}")
    return done
