"""Checks of pgbench-compare's parsing and statistics (python3 -m unittest discover -s benchmarks/lib)."""

import collections
import os
import tempfile
import unittest

from bench_report import Comparison, percentile_us
from pgbench_run import RunResult, parse_output, read_transaction_logs

# Output of pgbench 15.18 (Debian) for one clean run through PgBouncer.
CLEAN_SUMMARY = """pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: <builtin: select only>
scaling factor: 10
query mode: prepared
number of clients: 2
number of threads: 2
maximum number of tries: 1
duration: 2 s
number of transactions actually processed: 24294
number of failed transactions: 0 (0.000%)
latency average = 0.163 ms
initial connection time = 21.342 ms
tps = 12276.796430 (without initial connection time)
"""

# Error output of pgbench 15.18 when both clients' backends were terminated mid-run.
ABORTED_ERRORS = """FATAL:  terminating connection due to administrator command
pgbench: error: client 0 aborted in command 1 (SQL) of script 0; perhaps the backend died while processing
pgbench: error: client 1 script 0 aborted in command 1 query 0: FATAL:  terminating connection due to administrator command
pgbench: error: Run was aborted; the above results are incomplete.
"""


def new_result(target="direct", tps=None, round_number=1):
    result = RunResult(target, "simple", 2, 2, round_number, 0)
    result.tps = tps
    return result


# Output of pgbench 15.18 (Debian) when 64 clients through PgBouncer took all of -T 1 to connect.
NOTHING_COMPLETED_SUMMARY = """pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: <builtin: select only>
scaling factor: 10
query mode: prepared
number of clients: 64
number of threads: 2
maximum number of tries: 1
duration: 1 s
number of transactions actually processed: 0
number of failed transactions: 0 (NaN%)
"""


class PercentileTest(unittest.TestCase):
    def test_nearest_rank_percentiles_come_from_the_histogram(self):
        counts = collections.Counter({100: 50, 200: 49, 5000: 1})
        self.assertEqual(percentile_us(counts, 0.50), 100)
        self.assertEqual(percentile_us(counts, 0.51), 200)
        self.assertEqual(percentile_us(counts, 0.99), 200)
        self.assertEqual(percentile_us(counts, 1.0), 5000)

    def test_an_empty_histogram_has_no_percentile(self):
        self.assertIsNone(percentile_us(collections.Counter(), 0.5))


class TransactionLogTest(unittest.TestCase):
    def test_every_thread_file_is_read_failures_counted_and_files_removed(self):
        with tempfile.TemporaryDirectory() as directory:
            prefix = os.path.join(directory, "txn")
            with open(prefix + ".4242", "w", encoding="ascii") as log:
                log.write("0 1 11441 0 1796400349 862677\n0 2 354 0 1796400349 863038\n")
            with open(prefix + ".4242.1", "w", encoding="ascii") as log:
                log.write("1 1 354 0 1796400349 858371\n1 2 failed 0 1796400349 858616\n")
            counts, not_completed = read_transaction_logs(prefix)
            self.assertEqual(counts, collections.Counter({354: 2, 11441: 1}))
            self.assertEqual(not_completed, 1)
            self.assertEqual(os.listdir(directory), [])


class OutputParsingTest(unittest.TestCase):
    def test_a_clean_summary_yields_tps_and_counts(self):
        result = new_result()
        result.latency_us_counts[163] = 24294
        parse_output(result, CLEAN_SUMMARY, "")
        self.assertAlmostEqual(result.tps, 12276.796430)
        self.assertEqual(result.transactions, 24294)
        self.assertEqual(result.failed, 0)
        self.assertEqual(result.initial_connection_ms, 21.342)
        self.assertEqual(result.problems(), [])

    def test_aborted_clients_are_counted_once_each_and_reported(self):
        result = new_result()
        result.exit_code = 2
        result.latency_us_counts[100] = 10
        parse_output(result, CLEAN_SUMMARY, ABORTED_ERRORS)
        self.assertEqual(result.aborted_clients, 2)
        self.assertIn("2 clients aborted", result.problems())
        self.assertIn("Run was aborted", result.error)

    def test_a_run_that_only_connected_is_a_problem_that_names_the_cause(self):
        result = new_result()
        parse_output(result, NOTHING_COMPLETED_SUMMARY, "")
        self.assertEqual(
            result.problems(), ["no transaction completed: connecting took the whole run (use a longer --duration)"]
        )
        self.assertIn("number of transactions actually processed: 0", result.error)

    def test_a_missing_tps_line_is_a_problem(self):
        result = new_result()
        result.exit_code = 1
        parse_output(result, "", "pgbench: error: could not create connection for setup")
        self.assertEqual(result.problems(), ["pgbench exited with 1", "no tps line in pgbench output"])


class ComparisonTest(unittest.TestCase):
    def test_ratios_use_median_tps_over_rounds(self):
        comparison = Comparison(["simple"], [2], ["direct", "pgbouncer"])
        for target, tps in (("direct", 1000.0), ("direct", 3000.0), ("direct", 2000.0), ("pgbouncer", 1000.0)):
            run = new_result(target, tps)
            run.latency_us_counts[500 if target == "direct" else 1000] = 10
            comparison.add(run)
        (group,) = comparison.to_json()
        (pgbouncer_over_direct,) = group["ratios"]
        self.assertEqual(pgbouncer_over_direct["pair"], "pgbouncer/direct")
        self.assertAlmostEqual(pgbouncer_over_direct["tps"], 0.5)
        self.assertAlmostEqual(pgbouncer_over_direct["p50"], 2.0)


    def test_the_audit_cost_is_also_given_per_round(self):
        comparison = Comparison(["simple"], [2], ["phigate", "phigate-audit"])
        # The machine slows down in round 2: the medians' ratio says 29.5%, each round 4% or 10%.
        rounds = {1: (1000.0, 960.0), 2: (500.0, 450.0), 3: (1000.0, 960.0)}
        for number, (plain, audited) in rounds.items():
            comparison.add(new_result("phigate", plain, number))
            comparison.add(new_result("phigate-audit", audited if number != 3 else None, number))
        (group,) = comparison.to_json()
        (audit_over_plain,) = group["ratios"]
        self.assertAlmostEqual(audit_over_plain["tps"], 705.0 / 1000.0)
        self.assertEqual([round(value, 3) for value in audit_over_plain["tps_per_round"]], [0.96, 0.9])
        self.assertAlmostEqual(audit_over_plain["tps_per_round_median"], 0.93)
        text = comparison.render_text(3, 10, "caption")
        self.assertIn("per round: audit costs 7.0% (median), from 4.0% to 10.0%", text)


if __name__ == "__main__":
    unittest.main()
