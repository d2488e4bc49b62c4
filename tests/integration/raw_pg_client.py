"""A minimal PostgreSQL wire client for tests that real drivers cannot express: bytes pipelined after an
SSLRequest, a FunctionCall message, a client that reads slowly, an unknown cancel key.

It speaks just enough protocol 3.0 (startup, SCRAM-SHA-256, simple Query) to reach the query cycle.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct
import time

SSL_REQUEST = struct.pack("!II", 8, 80877103)
GSSENC_REQUEST = struct.pack("!II", 8, 80877104)


def message(type_byte: bytes, body: bytes) -> bytes:
    return type_byte + struct.pack("!I", len(body) + 4) + body


def startup_packet(user: str, database: str, **params: str) -> bytes:
    body = struct.pack("!I", 196608)
    for key, value in {"user": user, "database": database, **params}.items():
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


def cancel_packet(pid: int, secret: int) -> bytes:
    return struct.pack("!IIii", 16, 80877102, pid, secret)


def query(sql: str) -> bytes:
    return message(b"Q", sql.encode() + b"\0")


def error_fields(body: bytes) -> dict[str, str]:
    fields = {}
    for part in body.rstrip(b"\0").split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return fields


class RawConnection:
    """One socket to the gateway; reads whole messages."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed after {len(self.buffer)} of {n} bytes")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def read_message(self) -> tuple[str, bytes]:
        header = self.recv_exact(5)
        length = struct.unpack("!I", header[1:])[0]
        return chr(header[0]), self.recv_exact(length - 4)

    def read_until(self, wanted: str) -> list[tuple[str, bytes]]:
        seen = []
        while True:
            kind, body = self.read_message()
            seen.append((kind, body))
            if kind == wanted:
                return seen

    def closed_by_peer(self, within_s: float) -> bool:
        """True if the peer closes the connection within the time given (data received before is dropped)."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
        return False

    def start_tls(self, cafile: str | None = None) -> None:
        context = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
        if not cafile:
            context.check_hostname = False
        self.sock = context.wrap_socket(self.sock, server_hostname="localhost")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def login(self, user: str, password: str, database: str = "clinic") -> dict[str, object]:
        """Startup and SCRAM-SHA-256; returns {'key': (pid, secret), 'status': 'I', 'params': {...}}."""
        self.send(startup_packet(user, database))
        kind, body = self.read_message()
        if kind == "E":
            raise PermissionError(error_fields(body))
        assert kind == "R" and struct.unpack("!I", body[:4])[0] == 10, (kind, body)
        self._scram(password)
        result: dict[str, object] = {"params": {}}
        while True:
            kind, body = self.read_message()
            if kind == "E":
                raise PermissionError(error_fields(body))
            if kind == "K":
                result["key"] = struct.unpack("!ii", body)
            elif kind == "S":
                name, value = body.split(b"\0")[:2]
                result["params"][name.decode()] = value.decode()
            elif kind == "Z":
                result["status"] = body.decode()
                return result

    def _scram(self, password: str) -> None:
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = f"n=,r={nonce}"
        first = ("n,," + first_bare).encode()
        self.send(message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(first)) + first))
        kind, body = self.read_message()
        if kind == "E":
            raise PermissionError(error_fields(body))
        server_first = body[4:].decode()
        attrs = dict(item.split("=", 1) for item in server_first.split(","))
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        final_bare = f"c=biws,r={attrs['r']}"
        auth_message = f"{first_bare},{server_first},{final_bare}".encode()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
        self.send(message(b"p", f"{final_bare},p={proof}".encode()))
        kind, body = self.read_message()
        if kind == "E":
            raise PermissionError(error_fields(body))
        assert kind == "R" and struct.unpack("!I", body[:4])[0] == 12, (kind, body)
        kind, body = self.read_message()
        assert kind == "R" and struct.unpack("!I", body[:4])[0] == 0, (kind, body)
