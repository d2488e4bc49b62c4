"""Prepared-statement names through the extended protocol with a policy on: a name closed and redefined, and
names dropped by `DEALLOCATE ALL` / `DISCARD ALL`, must never carry a statement phigate did not judge under
that name; benign prepared traffic keeps working. Driven with raw_pg_client so every message is explicit."""

from __future__ import annotations

import pathlib
import struct

import pytest

from itest_support import PHIGATE_USERS
from raw_pg_client import RawConnection, error_fields, message, query

pytestmark = pytest.mark.usefixtures("require_gateway")

ALICE_PASSWORD = PHIGATE_USERS["alice"][0]

# alice (group clinical) may read and change session state; every write is refused by default-deny.
POLICY = """\
rules:
  - id: clinical-read
    groups: [clinical]
    kinds: [read, session]
    action: allow
"""


def parse(name: str, sql: str) -> bytes:
    return message(b"P", name.encode() + b"\0" + sql.encode() + b"\0" + struct.pack("!h", 0))


def bind(statement: str, portal: str = "") -> bytes:
    return message(b"B", portal.encode() + b"\0" + statement.encode() + b"\0" + struct.pack("!hhh", 0, 0, 0))


def execute(portal: str = "") -> bytes:
    return message(b"E", portal.encode() + b"\0" + struct.pack("!i", 0))


def close_statement(name: str) -> bytes:
    return message(b"C", b"S" + name.encode() + b"\0")


SYNC = message(b"S", b"")


def cycle(conn: RawConnection, *messages: bytes) -> list[tuple[str, bytes]]:
    """Sends the messages and a Sync; returns every reply up to and including ReadyForQuery."""
    conn.send(b"".join(messages) + SYNC)
    return conn.read_until("Z")


def simple(conn: RawConnection, sql: str) -> list[tuple[str, bytes]]:
    conn.send(query(sql))
    return conn.read_until("Z")


def errors(replies: list[tuple[str, bytes]]) -> list[dict[str, str]]:
    return [error_fields(body) for kind, body in replies if kind == "E"]


def rows(replies: list[tuple[str, bytes]]) -> list[bytes]:
    return [body for kind, body in replies if kind == "D"]


def single_value(row: bytes) -> str:
    columns, length = struct.unpack("!hi", row[:6])
    assert columns == 1
    return row[6:6 + length].decode()


def upstream_count(upstream_psql, table: str) -> str:
    return upstream_psql("-c", f"SELECT count(*) FROM {table}").stdout.strip()


@pytest.fixture
def alice(gateway, tmp_path: pathlib.Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    conn = RawConnection(gateway(extra={"policy_file": str(policy)}).port)
    conn.login("alice", ALICE_PASSWORD)
    yield conn
    conn.close()


def test_a_closed_name_redefined_with_a_denied_statement_is_refused(alice, upstream_psql):
    before = upstream_count(upstream_psql, "inventory")
    first = cycle(alice, parse("s1", "SELECT count(*) FROM inventory"), bind("s1"), execute())
    assert not errors(first), first
    assert [single_value(row) for row in rows(first)] == [before]
    closed = cycle(alice, close_statement("s1"))
    assert [kind for kind, _ in closed] == ["3", "Z"], closed

    redefined = cycle(alice, parse("s1", "DELETE FROM inventory"), bind("s1"), execute())
    refused = errors(redefined)
    assert len(refused) == 1 and refused[0]["C"] == "42501", redefined
    assert "phigate:" in refused[0]["M"]
    assert not rows(redefined) and not any(kind == "C" for kind, _ in redefined)

    # The refused Parse left no statement under the name, here or upstream: binding it again runs nothing.
    again = cycle(alice, bind("s1"), execute())
    assert [e["C"] for e in errors(again)] == ["26000"], again
    assert not any(kind == "C" for kind, _ in again)
    assert upstream_count(upstream_psql, "inventory") == before

    # Benign prepared traffic on the same session still works, the name included.
    benign = cycle(alice, parse("s1", "SELECT 41 + 1"), bind("s1"), execute())
    assert not errors(benign), benign
    assert [single_value(row) for row in rows(benign)] == ["42"]


@pytest.mark.parametrize("reset", ["DEALLOCATE ALL", "DISCARD ALL", "DEALLOCATE s1"])
def test_binding_a_name_dropped_by_sql_is_refused(alice, reset):
    prepared = cycle(alice, parse("s1", "SELECT count(*) FROM inventory"))
    assert not errors(prepared), prepared
    dropped = simple(alice, reset)
    assert not errors(dropped), dropped
    replies = cycle(alice, bind("s1"), execute())
    assert [e["C"] for e in errors(replies)] == ["26000"], replies
    assert not rows(replies)
    # The session goes on: the name can be prepared again and used.
    benign = cycle(alice, parse("s1", "SELECT 7"), bind("s1"), execute())
    assert not errors(benign), benign
    assert [single_value(row) for row in rows(benign)] == ["7"]


@pytest.mark.parametrize("reset", ["DEALLOCATE ALL", "DISCARD ALL"])
def test_a_name_dropped_by_sql_and_prepared_again_by_sql_is_not_bound(alice, reset):
    # After the reset phigate's record of "s1" is stale; an SQL-level PREPARE under the old name defines a
    # statement phigate never saw parsed, which must be refused at Bind like any other SQL-level one.
    assert not errors(cycle(alice, parse("s1", "SELECT 1")))
    assert not errors(simple(alice, reset))
    assert not errors(simple(alice, "PREPARE s1 AS SELECT count(*) FROM patients"))
    replies = cycle(alice, bind("s1"), execute())
    assert [e["C"] for e in errors(replies)] == ["26000"], replies
    assert not rows(replies)


def test_pgbench_style_simple_queries_with_new_literals_keep_their_decisions(alice, upstream_psql):
    # The same shape with new literals is answered from the literal-keyed analysis cache after two texts;
    # decisions must not change, whichever path answers.
    before = upstream_count(upstream_psql, "inventory")
    for i in range(1, 8):
        replies = simple(alice, f"SELECT count(*) FROM inventory WHERE id <> {i};")
        assert not errors(replies), replies
        assert len(rows(replies)) == 1
    for i in range(1, 5):
        replies = simple(alice, f"DELETE FROM inventory WHERE id = {i};")
        assert [e["C"] for e in errors(replies)] == ["42501"], replies
    for i in range(1, 5):
        # ORDER BY 1 names an output column: never answered by literal key, still allowed.
        replies = simple(alice, f"SELECT id FROM inventory ORDER BY {1} LIMIT {i}")
        assert not errors(replies), replies
        assert len(rows(replies)) == min(i, int(before))
    assert upstream_count(upstream_psql, "inventory") == before
