"""Content-scan masking through phigate: every text value a client can read (rows of any expression, COPY TO
STDOUT in text and CSV, error messages, pgjdbc binary transfer) has its SSNs, e-mail addresses and phone
numbers masked, except for people in `masking.unmasked_groups`. Reference answers come straight from the
upstream PostgreSQL."""

from __future__ import annotations

import csv
import io
import pathlib
import re
import subprocess

import pytest

from itest_support import client_environment, run_psql
from test_pgjdbc import PGJDBC_JAR, jdbc_url, pgjdbc_classes  # noqa: F401 (session fixture)

pytestmark = pytest.mark.usefixtures("require_gateway")

PATIENT_ROWS = 50
SSN_SHAPE = re.compile(r"^\*\*\*-\*\*-\d{4}$")


def masking_section(tmp_path: pathlib.Path, **overrides) -> dict:
    key_file = tmp_path / "masking.key"
    key_file.write_text("itest-masking-key-0123456789abcdef\n")
    section = {"key_file": str(key_file), "key_id": "itest", "default_transform": "redact",
               "transforms": {"SSN": "partial", "EMAIL": "pseudonym"}, "unmasked_groups": ["dba"]}
    section.update(overrides)
    return {"masking": section}


def rows(done: subprocess.CompletedProcess) -> list[list[str]]:
    return [line.split("|") for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def clear_patients(itest_env) -> list[dict[str, str]]:
    """The first PATIENT_ROWS patients exactly as stored (straight from the upstream)."""
    done = run_psql(itest_env.upstream_host, itest_env.upstream_port, itest_env.upstream_login(), "-c",
                    f"SELECT id, ssn, email, phone, notes FROM patients ORDER BY id LIMIT {PATIENT_ROWS}")
    return [dict(zip(("id", "ssn", "email", "phone", "notes"), line.split("|")))
            for line in done.stdout.splitlines()]


def identifiers(patients: list[dict[str, str]]) -> set[str]:
    found = set()
    for p in patients:
        found.update((p["ssn"], p["email"], p["phone"], p["ssn"].replace("-", "")))
    return found


def assert_no_clear_identifiers(text: str, patients: list[dict[str, str]]) -> None:
    leaked = sorted(value for value in identifiers(patients) if value in text)
    assert not leaked, f"clear identifiers in output: {leaked[:5]}"


def test_selected_columns_are_masked_by_type(gateway, psql, tmp_path, clear_patients):
    gw = gateway(extra=masking_section(tmp_path))
    done = psql(gw, gw.login("alice"), "-c",
                f"SELECT ssn, email, notes FROM patients ORDER BY id LIMIT {PATIENT_ROWS}")
    assert_no_clear_identifiers(done.stdout, clear_patients)
    got = rows(done)
    assert len(got) == PATIENT_ROWS
    for (ssn, email, notes), clear in zip(got, clear_patients):
        assert SSN_SHAPE.match(ssn) and ssn[-4:] == clear["ssn"][-4:], ssn
        # pseudonym: same shape, same separators, other letters and digits
        assert len(email) == len(clear["email"]) and email.count("@") == 1 and email != clear["email"]
        if clear["notes"].startswith("Pt called from"):
            assert "[PHONE]" in notes
    # Deterministic: the same query gives the same pseudonyms.
    again = psql(gw, gw.login("alice"), "-c",
                 f"SELECT ssn, email, notes FROM patients ORDER BY id LIMIT {PATIENT_ROWS}")
    assert again.stdout == done.stdout


def test_expressions_over_phi_are_masked_too(gateway, psql, tmp_path, clear_patients):
    gw = gateway(extra=masking_section(tmp_path))
    done = psql(gw, gw.login("bob"), "-c",
                f"SELECT ssn || '', lower(email), upper(notes), phone FROM patients ORDER BY id "
                f"LIMIT {PATIENT_ROWS}")
    assert_no_clear_identifiers(done.stdout.lower(), clear_patients)
    assert len(rows(done)) == PATIENT_ROWS


@pytest.mark.parametrize("copy_format", ["csv", "text"])
def test_copy_to_stdout_is_masked_in_place(gateway, psql, tmp_path, clear_patients, copy_format):
    gw = gateway(extra=masking_section(tmp_path))
    done = psql(gw, gw.login("alice"), "-c",
                f"COPY (SELECT id, ssn, email, phone, notes FROM patients ORDER BY id LIMIT {PATIENT_ROWS}) "
                f"TO STDOUT WITH (FORMAT {copy_format})")
    assert_no_clear_identifiers(done.stdout, clear_patients)
    if copy_format == "csv":
        parsed = list(csv.reader(io.StringIO(done.stdout)))
    else:
        parsed = [line.split("\t") for line in done.stdout.splitlines()]
    assert len(parsed) == PATIENT_ROWS
    for fields, clear in zip(parsed, clear_patients):
        assert len(fields) == 5, fields  # no delimiter added or lost
        assert fields[0] == clear["id"]
        assert SSN_SHAPE.match(fields[1]), fields


def test_error_messages_do_not_quote_clear_values(gateway, psql, tmp_path, clear_patients):
    gw = gateway(extra=masking_section(tmp_path))
    done = psql(gw, gw.login("alice"), "-c", "SELECT CAST(ssn AS int) FROM patients ORDER BY id LIMIT 1",
                check=False)
    assert done.returncode != 0
    assert "invalid input syntax for type integer" in done.stderr
    assert_no_clear_identifiers(done.stderr, clear_patients)
    assert "***-**-" + clear_patients[0]["ssn"][-4:] in done.stderr


def test_notices_and_notification_payloads_are_masked(gateway, psql, tmp_path, clear_patients):
    gw = gateway(extra=masking_section(tmp_path))
    ssn = clear_patients[0]["ssn"]
    done = psql(gw, gw.login("alice"), "-c",
                "DO $$ BEGIN RAISE NOTICE 'patient %', (SELECT ssn FROM patients ORDER BY id LIMIT 1) "
                "USING DETAIL = 'mail ' || (SELECT email FROM patients ORDER BY id LIMIT 1); END $$",
                "-c", "LISTEN phi_events", "-c", f"NOTIFY phi_events, 'updated {ssn}'")
    output = done.stdout + done.stderr
    assert "NOTICE:  patient ***-**-" + ssn[-4:] in output
    assert 'with payload "updated ***-**-' + ssn[-4:] + '"' in output
    assert_no_clear_identifiers(output, clear_patients)


def test_unmasked_groups_see_clear_values(gateway, psql, tmp_path, clear_patients):
    gw = gateway(extra=masking_section(tmp_path, unmasked_groups=["clinical"]))
    done = psql(gw, gw.login("alice"), "-c",
                f"SELECT ssn, email, notes FROM patients ORDER BY id LIMIT {PATIENT_ROWS}")
    assert rows(done) == [[p["ssn"], p["email"], p["notes"]] for p in clear_patients]
    # carol (group billing) is still masked on the same gateway.
    masked = psql(gw, gw.login("carol"), "-c", "SELECT '123-45-6789 or ann@example.com'")
    assert masked.stdout.strip() == "***-**-6789 or " + masked.stdout.strip().split(" or ")[1]
    assert "ann@example.com" not in masked.stdout


def test_masking_disabled_passes_values(gateway, psql, tmp_path, clear_patients):
    gw = gateway(extra=masking_section(tmp_path, enabled=False))
    done = psql(gw, gw.login("alice"), "-c", "SELECT ssn FROM patients ORDER BY id LIMIT 1")
    assert done.stdout.strip() == clear_patients[0]["ssn"]


def test_pgjdbc_binary_transfer_reads_masked_text_and_integers(gateway, pgjdbc_classes, tmp_path,  # noqa: F811
                                                               clear_patients):
    gw = gateway(extra=masking_section(tmp_path, transforms={"SSN": "pseudonym", "EMAIL": "pseudonym"}))
    login = gw.login("alice")
    command = ["java", "-cp", f"{pgjdbc_classes}:{PGJDBC_JAR}", "PgjdbcClient", "masked",
               jdbc_url(gw.host, gw.port, sslmode="disable"), login.user, login.password]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=client_environment())
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}\nlog:\n{gw.log_text()}"
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith("FAIL")], lines
    assert len([line for line in lines if line.startswith("PASS ")]) == 2
    got = [line[len("ROW "):].split("\t") for line in lines if line.startswith("ROW ")]
    assert len(got) == 30
    assert_no_clear_identifiers("\n".join(lines), clear_patients[:30])
    for (row_id, ssn, email, notes, ssn_int, ssn_bigint), clear in zip(got, clear_patients):
        assert row_id == clear["id"]
        assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", ssn) and ssn != clear["ssn"]
        clear_digits = int(clear["ssn"].replace("-", ""))
        if clear_digits >= 100_000_000:
            # Nine digits in a column named ssn_*: an SSN, replaced by a pseudonym of the same width.
            assert ssn_int != str(clear_digits) and ssn_bigint != str(clear_digits)
            assert ssn_int == "NULL" or 0 <= int(ssn_int) <= 2**31 - 1
