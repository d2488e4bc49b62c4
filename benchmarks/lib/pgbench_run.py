"""One timed pgbench run against one target, with latencies taken from pgbench's per-transaction log."""

import collections
import dataclasses
import glob
import os
import re
import subprocess
import tempfile

# pgbench may block on a dead connection past -T; this bounds a run at duration + grace.
RUN_GRACE_SECONDS = 60
STDERR_EXCERPT_CHARS = 2000

TPS_PATTERN = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
PROCESSED_PATTERN = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
FAILED_PATTERN = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)
LATENCY_AVERAGE_PATTERN = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)
CONNECTION_TIME_PATTERN = re.compile(r"^initial connection time = ([0-9.]+) ms", re.MULTILINE)
ABORTED_PATTERN = re.compile(r"client (\d+) (?:script \d+ )?aborted")


@dataclasses.dataclass
class RunResult:
    """What one pgbench invocation produced; latency_us_counts maps a latency in µs to how often it occurred."""

    target: str
    mode: str
    clients: int
    threads: int
    round_number: int
    position: int
    exit_code: int = 0
    tps: float = None
    transactions: int = 0
    failed: int = 0
    aborted_clients: int = 0
    latency_average_ms: float = None
    initial_connection_ms: float = None
    latency_us_counts: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    logged_failures: int = 0
    error: str = None

    def problems(self):
        """Every reason this run does not count as clean; empty when it does."""
        found = []
        if self.exit_code != 0:
            found.append(f"pgbench exited with {self.exit_code}")
        if self.tps is None and self.exit_code == 0 and self.transactions == 0:
            # pgbench's -T clock includes connecting, so a busy machine can spend the whole run there.
            found.append("no transaction completed: connecting took the whole run (use a longer --duration)")
        elif self.tps is None:
            found.append("no tps line in pgbench output")
        if self.failed or self.logged_failures:
            found.append(f"{max(self.failed, self.logged_failures)} failed transactions")
        if self.aborted_clients:
            found.append(f"{self.aborted_clients} clients aborted")
        if self.tps is not None and not self.latency_us_counts:
            found.append("empty per-transaction log")
        return found


def first_match(pattern, text, convert):
    match = pattern.search(text)
    return convert(match.group(1)) if match else None


def read_transaction_logs(prefix):
    """Reads every pgbench log file written for one prefix (one per thread) and removes them.

    Each line is `client_id transaction_no time script_no time_epoch time_us`, where `time` is the
    transaction latency in µs, or `failed` / `skipped` for transactions that did not complete.
    """
    counts = collections.Counter()
    not_completed = 0
    for path in glob.glob(glob.escape(prefix) + ".*"):
        with open(path, encoding="ascii", errors="replace") as log:
            for line in log:
                fields = line.split(maxsplit=3)
                if len(fields) < 3:
                    continue
                if fields[2].isdigit():
                    counts[int(fields[2])] += 1
                else:
                    not_completed += 1
        os.remove(path)
    return counts, not_completed


def pgbench_command(pgbench, target, mode, clients, threads, duration, log_prefix):
    return [
        pgbench,
        "--select-only",
        f"--protocol={mode}",
        f"--client={clients}",
        f"--jobs={threads}",
        f"--time={duration}",
        "--no-vacuum",
        "--log",
        f"--log-prefix={log_prefix}",
        *target.libpq_args(),
        target.dbname,
    ]


def run_pgbench(pgbench, target, mode, clients, threads, duration, round_number, position):
    """Runs `pgbench -S` once and parses its summary and per-transaction log."""
    result = RunResult(target.name, mode, clients, threads, round_number, position)
    with tempfile.TemporaryDirectory(prefix="pgbench-compare-log-") as log_directory:
        log_prefix = os.path.join(log_directory, "txn")
        command = pgbench_command(pgbench, target, mode, clients, threads, duration, log_prefix)
        try:
            completed = subprocess.run(
                command,
                env=target.environment(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=duration + RUN_GRACE_SECONDS,
            )
        except subprocess.TimeoutExpired:
            result.exit_code = -1
            result.error = f"pgbench did not finish within {duration + RUN_GRACE_SECONDS} s"
            return result
        result.latency_us_counts, result.logged_failures = read_transaction_logs(log_prefix)
    result.exit_code = completed.returncode
    parse_output(result, completed.stdout, completed.stderr)
    return result


def parse_output(result, summary, errors):
    """Fills a RunResult from pgbench's summary (stdout) and its error output (stderr)."""
    result.tps = first_match(TPS_PATTERN, summary, float)
    result.transactions = first_match(PROCESSED_PATTERN, summary, int) or 0
    result.failed = first_match(FAILED_PATTERN, summary, int) or 0
    result.latency_average_ms = first_match(LATENCY_AVERAGE_PATTERN, summary, float)
    result.initial_connection_ms = first_match(CONNECTION_TIME_PATTERN, summary, float)
    result.aborted_clients = len(set(ABORTED_PATTERN.findall(errors)))
    if result.problems():
        result.error = (errors.strip() or summary.strip())[-STDERR_EXCERPT_CHARS:] or None
