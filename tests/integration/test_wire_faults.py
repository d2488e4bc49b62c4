"""The startup phase and fault handling, driven byte by byte where real drivers cannot go."""

from __future__ import annotations

import struct
import threading
import time

import pytest

from itest_support import PHIGATE_USERS
from raw_pg_client import (GSSENC_REQUEST, SSL_REQUEST, RawConnection, cancel_packet, error_fields, message,
                           query, startup_packet)

pytestmark = pytest.mark.usefixtures("require_gateway")

ALICE_PASSWORD = PHIGATE_USERS["alice"][0]


def rss_kb(endpoint) -> int:
    with open(f"/proc/{endpoint.process.pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS line")


def connect(endpoint) -> RawConnection:
    return RawConnection(endpoint.port)


def expect_fatal(conn: RawConnection, sqlstate: str) -> dict[str, str]:
    kind, body = conn.read_message()
    assert kind == "E", (kind, body)
    fields = error_fields(body)
    assert fields["S"] == "FATAL" and fields["C"] == sqlstate, fields
    assert conn.closed_by_peer(5.0)
    return fields


def test_gssenc_request_is_answered_n_and_startup_continues(gateway):
    endpoint = gateway()
    conn = connect(endpoint)
    conn.send(GSSENC_REQUEST)
    assert conn.recv_exact(1) == b"N"
    conn.login("alice", ALICE_PASSWORD)
    conn.close()


def test_ssl_request_without_tls_configured_is_answered_n(gateway):
    conn = connect(gateway())
    conn.send(SSL_REQUEST)
    assert conn.recv_exact(1) == b"N"
    conn.login("alice", ALICE_PASSWORD)
    conn.close()


def test_bytes_pipelined_after_ssl_request_are_refused_before_tls(gateway):
    conn = connect(gateway(tls=True))
    conn.send(SSL_REQUEST + startup_packet("alice", "clinic"))
    # Nothing may be answered: not 'S', not an error inside a handshake that never happened.
    assert conn.closed_by_peer(5.0)


def test_second_ssl_request_inside_tls_is_refused(gateway, itest_env):
    conn = connect(gateway(tls=True))
    conn.send(SSL_REQUEST)
    assert conn.recv_exact(1) == b"S"
    conn.start_tls(str(itest_env.cert("ca.crt")))
    conn.send(SSL_REQUEST)
    expect_fatal(conn, "08P01")


def test_tls_required_refuses_plain_startup(gateway):
    conn = connect(gateway(tls=True, tls_required=True))
    conn.send(startup_packet("alice", "clinic"))
    fields = expect_fatal(conn, "28000")
    assert "TLS" in fields["M"]


def test_oversized_startup_packet_is_refused(gateway):
    conn = connect(gateway())
    conn.send(struct.pack("!II", 20000, 196608) + b"x" * 100)
    expect_fatal(conn, "08P01")


def test_malformed_startup_length_is_refused(gateway):
    conn = connect(gateway())
    conn.send(struct.pack("!I", 4))
    expect_fatal(conn, "08P01")


def test_protocol_2_is_refused_as_unsupported(gateway):
    conn = connect(gateway())
    body = struct.pack("!I", 2 << 16) + b"user\0alice\0\0"
    conn.send(struct.pack("!I", len(body) + 4) + body)
    expect_fatal(conn, "0A000")


def test_newer_minor_version_gets_negotiate_protocol_version(gateway):
    conn = connect(gateway())
    body = struct.pack("!I", (3 << 16) | 2) + b"user\0alice\0database\0clinic\0_pq_.future\0on\0\0"
    conn.send(struct.pack("!I", len(body) + 4) + body)
    kind, payload = conn.read_message()
    assert kind == "v"
    newest_minor, count = struct.unpack("!iI", payload[:8])
    assert newest_minor == 0 and count == 1 and payload[8:] == b"_pq_.future\0"
    kind, payload = conn.read_message()
    assert kind == "R"  # authentication goes on as usual
    conn.close()


def test_options_startup_parameter_is_refused(gateway):
    conn = connect(gateway())
    conn.send(startup_packet("alice", "clinic", options="-c search_path=evil"))
    fields = expect_fatal(conn, "08P01")
    assert '"options"' in fields["M"]


def test_startup_timeout_closes_a_silent_client(gateway):
    endpoint = gateway(startup_timeout_ms=300)
    conn = connect(endpoint)
    started = time.monotonic()
    assert conn.closed_by_peer(5.0)
    assert time.monotonic() - started < 3.0
    assert "startup_timeout" in endpoint.log_text()


def test_idle_timeout_ends_an_idle_session_with_57p05(gateway):
    endpoint = gateway(idle_timeout_ms=300)
    conn = connect(endpoint)
    conn.login("alice", ALICE_PASSWORD)
    fields = expect_fatal(conn, "57P05")
    assert "idle" in fields["M"]


def test_function_call_is_refused_and_the_session_goes_on(gateway):
    conn = connect(gateway())
    conn.login("alice", ALICE_PASSWORD)
    # FunctionCall: function OID 1598 (random()), no arguments, text result.
    conn.send(message(b"F", struct.pack("!IhhH", 1598, 0, 0, 0) + struct.pack("!h", 0)))
    kind, body = conn.read_message()
    assert kind == "E"
    fields = error_fields(body)
    assert fields["C"] == "0A000" and "fastpath" in fields["M"]
    assert conn.read_message() == ("Z", b"I")
    conn.send(query("SELECT 41 + 1"))
    rows = [body for kind, body in conn.read_until("Z") if kind == "D"]
    assert rows and rows[0].endswith(b"42")


def test_unknown_frontend_message_type_ends_the_session_with_08p01(gateway):
    conn = connect(gateway())
    conn.login("alice", ALICE_PASSWORD)
    conn.send(message(b"y", b""))
    expect_fatal(conn, "08P01")


def test_oversized_message_in_query_cycle_ends_session_and_gateway_serves_next(gateway):
    endpoint = gateway(max_message_bytes=4096)
    conn = connect(endpoint)
    conn.login("alice", ALICE_PASSWORD)
    conn.send(b"Q" + struct.pack("!I", 1 << 20))  # only the header: the limit applies before the body arrives
    expect_fatal(conn, "08P01")
    other = connect(endpoint)
    other.login("alice", ALICE_PASSWORD)
    other.close()


def test_cancel_with_unknown_key_does_nothing(gateway):
    endpoint = gateway()
    conn = connect(endpoint)
    session = conn.login("alice", ALICE_PASSWORD)
    conn.send(query("SELECT pg_sleep(1.5), 'finished'"))
    time.sleep(0.3)
    pid, secret = session["key"]
    stranger = connect(endpoint)
    stranger.send(cancel_packet(pid, secret ^ 0x5A5A5A5A))
    assert stranger.closed_by_peer(5.0)
    messages = conn.read_until("Z")
    assert not any(kind == "E" for kind, _ in messages), messages
    assert any(kind == "D" and body.endswith(b"finished") for kind, body in messages)
    assert "unknown cancel key" in endpoint.log_text()


def test_upstream_dying_mid_result_ends_the_client_session_with_an_error(gateway, upstream_psql):
    endpoint = gateway()
    conn = connect(endpoint)
    conn.login("alice", ALICE_PASSWORD)
    conn.send(query("SELECT pg_backend_pid()"))
    backend_pid = int([body for kind, body in conn.read_until("Z") if kind == "D"][0][6:])
    conn.send(query("SELECT g, pg_sleep(0.001) FROM generate_series(1, 100000) g"))
    killer = threading.Timer(0.5, lambda: upstream_psql("-c", f"SELECT pg_terminate_backend({backend_pid})"))
    killer.start()
    kinds = []
    try:
        while True:
            kind, _ = conn.read_message()
            kinds.append(kind)
    except (EOFError, ConnectionResetError):
        pass
    killer.join()
    assert "E" in kinds and "Z" not in kinds[1:]
    assert endpoint.alive()


def test_slow_client_keeps_gateway_memory_bounded(gateway):
    endpoint = gateway()
    conn = connect(endpoint)
    conn.login("alice", ALICE_PASSWORD)
    # About 200 MB of rows; the client reads them slowly at first while the gateway's RSS is sampled.
    conn.send(query("SELECT repeat('x', 2000) FROM generate_series(1, 100000)"))
    peak_kb = 0
    received = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        chunk = conn.sock.recv(1 << 20)
        assert chunk, "connection closed before the result ended"
        received += len(chunk)
        if received < 40 << 20:
            time.sleep(0.002)
        peak_kb = max(peak_kb, rss_kb(endpoint))
        if chunk.endswith(b"Z\0\0\0\x05I"):
            break
    assert received > 200_000_000
    assert peak_kb < 64 * 1024, f"gateway RSS peaked at {peak_kb} kB"


def test_binding_a_statement_prepared_by_sql_is_refused(gateway):
    conn = connect(gateway())
    conn.login("alice", ALICE_PASSWORD)
    conn.send(query("PREPARE smuggled AS SELECT 1"))
    assert not any(kind == "E" for kind, _ in conn.read_until("Z"))
    # Bind the SQL-level statement through the protocol: phigate never saw its text judged at Parse.
    bind = message(b"B", b"\0smuggled\0" + struct.pack("!hhh", 0, 0, 0))
    execute = message(b"E", b"\0" + struct.pack("!i", 0))
    conn.send(bind + execute + message(b"S", b""))
    replies = conn.read_until("Z")
    errors = [error_fields(body) for kind, body in replies if kind == "E"]
    assert len(errors) == 1 and errors[0]["C"] == "26000", replies
    assert not any(kind == "D" for kind, _ in replies)
