"""Aggregation over rounds and the text, Markdown and JSON renderings of a pgbench comparison."""

import collections
import math
import statistics

RATIO_PAIRS = (
    ("phigate", "pgbouncer"),
    ("phigate", "direct"),
    ("pgbouncer", "direct"),
    ("phigate-audit", "phigate"),
)
UNCLEAN_NOTE = "* at least one run of this target failed (pgbench error or aborted clients); see stderr or --json"
DISPLAY_NAMES = {"direct": "direct", "pgbouncer": "PgBouncer", "phigate": "phigate", "phigate-audit": "phigate+audit"}


def percentile_us(counts, fraction):
    """Nearest-rank percentile over a latency histogram (µs -> occurrences); None when empty."""
    total = sum(counts.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for latency in sorted(counts):
        seen += counts[latency]
        if seen >= rank:
            return latency
    return None


def milliseconds(microseconds):
    return None if microseconds is None else microseconds / 1000.0


def ratio(numerator, denominator):
    if numerator is None or denominator in (None, 0):
        return None
    return numerator / denominator


def round_ratios(top, bottom):
    """TPS of `top` over that of `bottom` in each round both finished: runs of one round are minutes apart
    at most, so a machine whose speed drifts between rounds skews these less than the ratio of medians."""
    bottom_tps = bottom.tps_by_round()
    return [ratio(tps, bottom_tps[number]) for number, tps in sorted(top.tps_by_round().items())
            if bottom_tps.get(number)]


class Cell:
    """All runs of one (mode, clients, target) across rounds."""

    def __init__(self, mode, clients, target):
        self.mode = mode
        self.clients = clients
        self.target = target
        self.runs = []
        self.latency_us_counts = collections.Counter()

    def add(self, run):
        self.runs.append(run)
        self.latency_us_counts.update(run.latency_us_counts)

    def tps_values(self):
        return [run.tps for run in self.runs if run.tps is not None]

    def tps_median(self):
        values = self.tps_values()
        return statistics.median(values) if values else None

    def tps_by_round(self):
        return {run.round_number: run.tps for run in self.runs if run.tps is not None}

    def latency_ms(self, fraction):
        return milliseconds(percentile_us(self.latency_us_counts, fraction))

    def failed(self):
        return sum(max(run.failed, run.logged_failures) for run in self.runs)

    def clean(self):
        return all(not run.problems() for run in self.runs)

    def failed_label(self):
        """Failed transactions, starred when a run also ended badly (non-zero exit, aborted clients)."""
        return f"{self.failed()}{'' if self.clean() else ' *'}"

    def summary(self):
        return {
            "mode": self.mode,
            "clients": self.clients,
            "target": self.target,
            "runs": len(self.runs),
            "tps_median": self.tps_median(),
            "tps_runs": self.tps_values(),
            "transactions_logged": sum(self.latency_us_counts.values()),
            "failed_transactions": self.failed(),
            "p50_ms": self.latency_ms(0.50),
            "p95_ms": self.latency_ms(0.95),
            "p99_ms": self.latency_ms(0.99),
            "max_ms": milliseconds(max(self.latency_us_counts) if self.latency_us_counts else None),
            "clean": self.clean(),
        }


class Comparison:
    """Collects runs as they finish and renders the side-by-side tables."""

    def __init__(self, modes, clients_list, targets):
        self.modes_ = modes
        self.clients_list_ = clients_list
        self.targets_ = targets
        self.cells_ = {}
        for mode in modes:
            for clients in clients_list:
                for target in targets:
                    self.cells_[(mode, clients, target)] = Cell(mode, clients, target)

    def add(self, run):
        self.cells_[(run.mode, run.clients, run.target)].add(run)

    def groups(self):
        for mode in self.modes_:
            for clients in self.clients_list_:
                yield mode, clients, [self.cells_[(mode, clients, target)] for target in self.targets_]

    def ratios(self, cells):
        by_target = {cell.target: cell for cell in cells}
        rows = []
        for numerator, denominator in RATIO_PAIRS:
            if numerator in by_target and denominator in by_target:
                top, bottom = by_target[numerator], by_target[denominator]
                if top.tps_median() is None or bottom.tps_median() is None:
                    continue
                per_round = round_ratios(top, bottom)
                rows.append(
                    {
                        "pair": f"{numerator}/{denominator}",
                        "tps": ratio(top.tps_median(), bottom.tps_median()),
                        "tps_per_round": per_round,
                        "tps_per_round_median": statistics.median(per_round) if per_round else None,
                        "p50": ratio(top.latency_ms(0.50), bottom.latency_ms(0.50)),
                        "p99": ratio(top.latency_ms(0.99), bottom.latency_ms(0.99)),
                    }
                )
        return rows

    def to_json(self):
        results = []
        for mode, clients, cells in self.groups():
            results.append(
                {
                    "mode": mode,
                    "clients": clients,
                    "targets": [cell.summary() for cell in cells],
                    "ratios": self.ratios(cells),
                }
            )
        return results

    def render_text(self, rounds, duration, caption):
        lines = [caption, ""]
        for mode, clients, cells in self.groups():
            lines.append(f"== {mode} protocol, {clients} client(s), {rounds} round(s) x {duration} s ==")
            lines.append(f"{'target':<14}{'TPS median':>12}{'p50 ms':>11}{'p99 ms':>11}{'failed':>8}   TPS per round")
            for cell in cells:
                per_round = " ".join(format_number(value, 0) for value in cell.tps_values()) or "-"
                lines.append(
                    f"{DISPLAY_NAMES[cell.target]:<14}{format_number(cell.tps_median(), 0):>12}"
                    f"{format_number(cell.latency_ms(0.50), 3):>11}{format_number(cell.latency_ms(0.99), 3):>11}"
                    f"{cell.failed_label():>8}   {per_round}"
                )
            for row in self.ratios(cells):
                label = " ÷ ".join(DISPLAY_NAMES[name] for name in row["pair"].split("/"))
                line = (
                    f"  {label + ':':<26} TPS x{format_number(row['tps'], 2)}"
                    f"   p50 x{format_number(row['p50'], 2)}   p99 x{format_number(row['p99'], 2)}"
                )
                if row["pair"] == "phigate-audit/phigate" and row["tps"] is not None:
                    line += f"   (audit costs {format_number((1 - row['tps']) * 100, 1)}% of phigate's TPS)"
                lines.append(line)
                if row["pair"] == "phigate-audit/phigate" and row["tps_per_round"]:
                    costs = sorted((1 - value) * 100 for value in row["tps_per_round"])
                    lines.append(
                        f"  {'':<26} per round: audit costs {format_number(statistics.median(costs), 1)}% "
                        f"(median), from {format_number(costs[0], 1)}% to {format_number(costs[-1], 1)}%"
                    )
            lines.append("")
        if not self.all_clean():
            lines.append(UNCLEAN_NOTE)
        return "\n".join(lines)

    def all_clean(self):
        return all(cell.clean() for cell in self.cells_.values())

    def render_markdown(self, caption):
        lines = [
            f"_{caption}_",
            "",
            "| Mode | Clients | Target | TPS (median) | p50 ms | p99 ms | Failed |",
            "|---|---:|---|---:|---:|---:|---:|",
        ]
        for mode, clients, cells in self.groups():
            for cell in cells:
                lines.append(
                    f"| {mode} | {clients} | {DISPLAY_NAMES[cell.target]} | {format_number(cell.tps_median(), 0)} "
                    f"| {format_number(cell.latency_ms(0.50), 3)} | {format_number(cell.latency_ms(0.99), 3)} "
                    f"| {cell.failed_label()} |"
                )
        ratio_lines = []
        for mode, clients, cells in self.groups():
            for row in self.ratios(cells):
                label = " ÷ ".join(DISPLAY_NAMES[name] for name in row["pair"].split("/"))
                ratio_lines.append(
                    f"| {mode} | {clients} | {label} | {format_number(row['tps'], 2)} "
                    f"| {format_number(row['p50'], 2)} | {format_number(row['p99'], 2)} |"
                )
        if not self.all_clean():
            lines += ["", UNCLEAN_NOTE]
        if ratio_lines:
            lines += ["", "| Mode | Clients | Ratio | TPS | p50 | p99 |", "|---|---:|---|---:|---:|---:|"]
            lines += ratio_lines
        return "\n".join(lines) + "\n"


def format_number(value, decimals):
    if value is None:
        return "-"
    return f"{value:,.{decimals}f}"
