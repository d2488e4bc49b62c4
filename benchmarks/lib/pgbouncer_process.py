"""A throwaway PgBouncer (session pooling) in front of the direct PostgreSQL, owned by one benchmark run."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from pg_target import Target, TargetError

STARTUP_TIMEOUT_SECONDS = 15
STOP_TIMEOUT_SECONDS = 10
MAX_CLIENT_CONNECTIONS = 200
DEFAULT_POOL_SIZE = 40


def free_local_port():
    """Asks the kernel for an unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def quote_userlist(value):
    return '"' + value.replace('"', '""') + '"'


def port_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PgBouncerProcess:
    """Starts PgBouncer on enter and always stops it (and removes its files) on exit."""

    def __init__(self, binary, upstream, port, os_user, server_sslmode):
        self.binary_ = binary
        self.upstream_ = upstream
        self.server_sslmode_ = server_sslmode
        self.port_ = port or free_local_port()
        self.os_user_ = os_user
        self.directory_ = None
        self.process_ = None

    def __enter__(self):
        try:
            self.start_()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()
        return False

    def target(self):
        """The pgbench-facing endpoint: same role, password and database name as the direct target."""
        upstream = self.upstream_
        return Target(
            "pgbouncer", "127.0.0.1", self.port_, upstream.user, upstream.password, upstream.dbname, upstream.sslmode
        )

    def version(self):
        completed = subprocess.run([self.binary_, "--version"], capture_output=True, text=True, check=False)
        return completed.stdout.splitlines()[0].strip() if completed.stdout else "unknown"

    def log_tail(self, lines=20):
        if not self.directory_:
            return ""
        path = os.path.join(self.directory_, "pgbouncer.log")
        try:
            with open(path, encoding="utf-8", errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return ""

    def start_(self):
        if port_accepts(self.port_):
            # Something else answering there would be benchmarked in PgBouncer's name.
            raise TargetError(f"pgbouncer: 127.0.0.1:{self.port_} is already in use (choose --pgbouncer-port)")
        self.directory_ = tempfile.mkdtemp(prefix="pgbench-compare-pgbouncer-")
        ini_path = self.write_config_()
        command = [self.binary_]
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root; -u makes it drop to an ordinary account itself.
            command += ["-u", self.os_user_]
        command.append(ini_path)
        # A new session keeps a terminal Ctrl-C from killing PgBouncer before the benchmark's
        # own cleanup runs; the cleanup stops it explicitly.
        self.process_ = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.wait_until_ready_()

    def write_config_(self):
        upstream = self.upstream_
        auth_path = os.path.join(self.directory_, "userlist.txt")
        ini_path = os.path.join(self.directory_, "pgbouncer.ini")
        # A plain password in the userlist lets PgBouncer answer the client's SCRAM exchange and run
        # its own SCRAM (or md5) login against PostgreSQL, whatever password_encryption says.
        with open(auth_path, "w", encoding="utf-8") as userlist:
            userlist.write(f"{quote_userlist(upstream.user)} {quote_userlist(upstream.password)}\n")
        os.chmod(auth_path, 0o600)
        settings = [
            "[databases]",
            f"{upstream.dbname} = host={upstream.host} port={upstream.port} dbname={upstream.dbname}",
            "",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port_}",
            "unix_socket_dir =",
            "auth_type = scram-sha-256",
            f"auth_file = {auth_path}",
            "pool_mode = session",
            f"max_client_conn = {MAX_CLIENT_CONNECTIONS}",
            f"default_pool_size = {DEFAULT_POOL_SIZE}",
            "ignore_startup_parameters = extra_float_digits",
            f"logfile = {os.path.join(self.directory_, 'pgbouncer.log')}",
            f"pidfile = {os.path.join(self.directory_, 'pgbouncer.pid')}",
            "log_connections = 0",
            "log_disconnections = 0",
            f"server_tls_sslmode = {self.server_sslmode_}",
            *self.client_tls_settings_(),
            "",
        ]
        with open(ini_path, "w", encoding="utf-8") as ini:
            ini.write("\n".join(settings))
        if os.geteuid() == 0:
            self.hand_over_directory_()
        return ini_path

    def client_tls_settings_(self):
        """Offers TLS to clients, with a throwaway self-signed certificate, when they are told to use it."""
        if self.upstream_.sslmode == "disable":
            return ["client_tls_sslmode = disable"]
        key_path = os.path.join(self.directory_, "client.key")
        cert_path = os.path.join(self.directory_, "client.crt")
        command = [
            "openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-keyout", key_path, "-out", cert_path,
        ]  # fmt: skip
        try:
            completed = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError as error:
            raise TargetError("pgbouncer: openssl is needed to give PgBouncer a TLS certificate") from error
        if completed.returncode != 0:
            raise TargetError(f"pgbouncer: could not create a TLS certificate: {completed.stderr.strip()}")
        os.chmod(key_path, 0o600)
        return [
            "client_tls_sslmode = allow",
            f"client_tls_key_file = {key_path}",
            f"client_tls_cert_file = {cert_path}",
        ]

    def hand_over_directory_(self):
        try:
            account = pwd.getpwnam(self.os_user_)
        except KeyError as error:
            raise TargetError(
                f"pgbouncer: OS user {self.os_user_!r} does not exist (choose one with --pgbouncer-os-user)"
            ) from error
        for name in [self.directory_] + [os.path.join(self.directory_, f) for f in os.listdir(self.directory_)]:
            os.chown(name, account.pw_uid, account.pw_gid)

    def wait_until_ready_(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process_.poll() is not None:
                raise TargetError(
                    f"pgbouncer exited with {self.process_.returncode} during startup:\n{self.log_tail()}"
                )
            if port_accepts(self.port_):
                return
            time.sleep(0.1)
        raise TargetError(f"pgbouncer did not listen on 127.0.0.1:{self.port_} in time:\n{self.log_tail()}")

    def stop(self):
        """Stops PgBouncer (SIGTERM, then SIGKILL) and removes its directory; safe to call twice."""
        if self.process_ is not None and self.process_.poll() is None:
            self.process_.send_signal(signal.SIGTERM)
            try:
                self.process_.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process_.kill()
                self.process_.wait()
        self.process_ = None
        if self.directory_:
            shutil.rmtree(self.directory_, ignore_errors=True)
            self.directory_ = None
