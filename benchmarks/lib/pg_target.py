"""Connection targets and the psql helper used for checks outside the timed runs."""

import dataclasses
import os
import shutil
import subprocess

CHECK_TIMEOUT_SECONDS = 30


class TargetError(Exception):
    """A target cannot be used; the message says what to do about it."""


@dataclasses.dataclass(frozen=True)
class Target:
    """One endpoint that speaks the PostgreSQL protocol (direct, pgbouncer or phigate)."""

    name: str
    host: str
    port: int
    user: str
    password: str
    dbname: str
    sslmode: str = "disable"

    def address(self):
        return f"{self.host}:{self.port}"

    def libpq_args(self):
        """Connection arguments shared by psql and pgbench (the password travels in the environment)."""
        return ["-h", self.host, "-p", str(self.port), "-U", self.user]

    def environment(self):
        env = dict(os.environ)
        # The password goes through the environment so it never shows up in `ps`; without one,
        # libpq falls back to ~/.pgpass or whatever the caller's environment says.
        if self.password:
            env["PGPASSWORD"] = self.password
        env.setdefault("PGCONNECT_TIMEOUT", "10")
        # Every target gets the same client-side TLS setting, so TLS cost never differs by target.
        env["PGSSLMODE"] = self.sslmode
        env["PGAPPNAME"] = "pgbench-compare"
        return env

    def describe(self):
        return f"{self.name} ({self.user}@{self.address()}/{self.dbname}, sslmode={self.sslmode})"


def find_program(name, fallbacks=()):
    """Locates a program on PATH or in well-known Debian locations; returns None when absent."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in fallbacks:
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def psql_query(psql, target, sql, dbname=None):
    """Runs one query and returns its unaligned, tuples-only output; raises TargetError on failure."""
    command = [psql, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"]
    command += target.libpq_args() + ["-d", dbname or target.dbname, "-c", sql]
    try:
        completed = subprocess.run(
            command,
            env=target.environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as error:
        raise TargetError(f"{target.describe()}: no answer within {CHECK_TIMEOUT_SECONDS} s") from error
    if completed.returncode != 0:
        detail = completed.stderr.strip() or f"psql exited with {completed.returncode}"
        raise TargetError(f"{target.describe()}: {detail}")
    return completed.stdout.strip()


def pgbench_scale(psql, target):
    """Returns the pgbench scale found in the database, or None when the tables are missing."""
    present = psql_query(
        psql,
        target,
        "SELECT to_regclass('pgbench_accounts') IS NOT NULL AND to_regclass('pgbench_branches') IS NOT NULL",
    )
    if present != "t":
        return None
    return branch_count(psql, target)


def branch_count(psql, target):
    """The scale as pgbench computes it, with pgbench's own startup query (so a proxy must allow no more)."""
    answer = psql_query(psql, target, "select count(*) from pgbench_branches")
    try:
        return int(answer)
    except ValueError as error:
        raise TargetError(f"{target.describe()}: count(*) of pgbench_branches came back as {answer!r}") from error
