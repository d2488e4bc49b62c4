"""phigate's command line: `check` validates configs and reports errors as file:line:col; `passwd` makes
SCRAM-SHA-256 verifiers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import subprocess

import pytest

from itest_support import gateway_only, run_phigate_passwd, scram_verifier_line

VERIFIER = re.compile(r"SCRAM-SHA-256\$(?P<iterations>\d+):(?P<salt>[A-Za-z0-9+/=]+)"
                      r"\$(?P<stored_key>[A-Za-z0-9+/=]+):(?P<server_key>[A-Za-z0-9+/=]+)")


@pytest.fixture(autouse=True)
def _needs_the_binary(itest_env):
    gateway_only(itest_env)


def phigate_check(itest_env, path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(itest_env.phigate_bin), "check", "--config", str(path)], capture_output=True,
                          text=True, timeout=30)


def verifier_matches(verifier: str, password: str) -> bool:
    """RFC 5802 / 7677: SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations),
    StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key")."""
    parts = VERIFIER.fullmatch(verifier)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(parts["salt"]),
                                 int(parts["iterations"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return (base64.b64decode(parts["stored_key"]) == hashlib.sha256(client_key).digest()
            and base64.b64decode(parts["server_key"]) == server_key)


def test_check_accepts_a_complete_config(itest_env, gateway_launcher):
    path = gateway_launcher.write_config(gateway_launcher.config(tls=True, idle_timeout_ms=5000), "good")
    done = phigate_check(itest_env, path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_reports_a_wrongly_typed_value_at_its_line(itest_env, gateway_launcher, tmp_path):
    good = gateway_launcher.write_config(gateway_launcher.config(), "base").read_text().splitlines()
    line_number = next(i for i, line in enumerate(good, start=1) if line.startswith("workers:"))
    good[line_number - 1] = "workers: many"
    path = tmp_path / "typed.yaml"
    path.write_text("\n".join(good) + "\n")
    done = phigate_check(itest_env, path)
    assert done.returncode == 1
    assert re.search(rf"{re.escape(str(path))}:{line_number}:\d+", done.stdout + done.stderr), \
        done.stdout + done.stderr


def test_check_reports_a_user_mapped_to_an_unknown_role_at_its_line(itest_env, gateway_launcher, tmp_path):
    config = gateway_launcher.config()
    config["users"]["alice"]["role"] = "no_such_role"
    path = gateway_launcher.write_config(config, "role")
    line_number = next(i for i, line in enumerate(path.read_text().splitlines(), start=1)
                       if "no_such_role" in line)
    done = phigate_check(itest_env, path)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert re.search(rf"{re.escape(str(path))}:{line_number}:\d+", output), output
    assert "no_such_role" in output


def test_check_reports_yaml_syntax_errors_with_a_position(itest_env, tmp_path):
    path = tmp_path / "syntax.yaml"
    path.write_text("listen:\n  postgres: 127.0.0.1:0\nworkers: [1, 2\nupstream: {host: 127.0.0.1}\n")
    done = phigate_check(itest_env, path)
    assert done.returncode == 1
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+", done.stdout + done.stderr), done.stdout + done.stderr


def test_passwd_prints_a_verifier_for_the_password(itest_env):
    done = run_phigate_passwd(itest_env.phigate_bin, "correct horse battery staple")
    assert done.returncode == 0, done.stderr
    verifier = scram_verifier_line(done.stdout)
    parts = VERIFIER.fullmatch(verifier)
    assert parts, verifier
    assert int(parts["iterations"]) >= 4096
    assert len(base64.b64decode(parts["salt"])) >= 16
    assert len(base64.b64decode(parts["stored_key"])) == 32
    assert len(base64.b64decode(parts["server_key"])) == 32
    assert verifier_matches(verifier, "correct horse battery staple")
    assert not verifier_matches(verifier, "correct horse battery stapler")


def test_passwd_salts_every_verifier_differently(itest_env):
    first = scram_verifier_line(run_phigate_passwd(itest_env.phigate_bin, "same password").stdout)
    second = scram_verifier_line(run_phigate_passwd(itest_env.phigate_bin, "same password").stdout)
    assert VERIFIER.fullmatch(first)["salt"] != VERIFIER.fullmatch(second)["salt"]
    assert verifier_matches(first, "same password") and verifier_matches(second, "same password")
