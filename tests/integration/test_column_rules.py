"""Column rules through phigate: `masking.columns` masks every value of a named column whole, under any alias
(by table OID + attnum read through the metadata connection), in expressions over it (by the statement's
lineage: masked whole or refused), refuses whole-row output, reports predicates on masked columns to the
policy (`masked_predicates`), and splits COPY TO STDOUT into fields. Reference answers come straight from
the upstream PostgreSQL."""

from __future__ import annotations

import csv
import io
import pathlib
import re
import subprocess
import time

import pytest

from itest_support import client_environment, gateway_only
from test_masking import masking_section
from test_pgjdbc import PGJDBC_JAR, jdbc_url, pgjdbc_classes  # noqa: F401 (session fixture)

POLICY = """\
rules:
  - id: no-guessing-ssn
    groups: [clinical]
    kinds: [read]
    masked_predicates: true
    action: deny
    reason: filtering on a masked column reveals it
  - id: clinical-read
    groups: [clinical]
    kinds: [read, session, export, ddl]
    action: allow
"""

SSN_SHAPE = re.compile(r"^\*\*\*-\*\*-\d{4}$")
ROWS = 5


@pytest.fixture(autouse=True)
def _needs_the_gateway(itest_env):
    gateway_only(itest_env)


def rules_config(tmp_path: pathlib.Path, **overrides) -> dict:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    section = masking_section(tmp_path, columns={"public.patients.ssn": "partial",
                                                 "public.patients.full_name": "pseudonym",
                                                 "public.patients.dob": "safe_harbor_date"},
                              metadata_role="phigate_meta", **overrides)
    section["roles"] = {"phigate_meta": {"user": "phigate_meta", "password_env": "PHIGATE_ROLE_PHIGATE_META"}}
    section["policy_file"] = str(policy)
    return section


@pytest.fixture
def rules_gateway(gateway, tmp_path):
    return gateway(extra=rules_config(tmp_path))


@pytest.fixture(scope="module")
def clear(itest_env) -> list[dict[str, str]]:
    from itest_support import run_psql
    done = run_psql(itest_env.upstream_host, itest_env.upstream_port, itest_env.upstream_login(), "-c",
                    f"SELECT id, full_name, ssn, dob FROM patients ORDER BY id LIMIT {ROWS}")
    return [dict(zip(("id", "full_name", "ssn", "dob"), line.split("|"))) for line in done.stdout.splitlines()]


def query(psql, gw, sql, user="bob", **options):
    options.setdefault("check", False)
    options.setdefault("on_error_stop", False)
    return psql(gw, gw.login(user), "-v", "VERBOSITY=verbose", "-c", sql, **options)


def table(done) -> list[list[str]]:
    assert done.returncode == 0, done.stderr
    return [line.split("|") for line in done.stdout.splitlines()]


def test_aliases_do_not_escape_a_rule(psql, rules_gateway, clear):
    done = query(psql, rules_gateway, "SELECT ssn AS note, full_name AS who, dob AS day, id FROM patients "
                                      f"ORDER BY id LIMIT {ROWS}")
    for (note, who, day, _), row in zip(table(done), clear):
        assert SSN_SHAPE.match(note) and note.endswith(row["ssn"][-4:]), note
        assert who != row["full_name"] and len(who) == len(row["full_name"]), who
        assert day == row["dob"][:4] + "-01-01"
    # Through a subquery and a CTE the server still names the base column.
    done = query(psql, rules_gateway, "WITH c AS (SELECT ssn AS x FROM patients) SELECT y FROM "
                                      f"(SELECT x AS y FROM c) s LIMIT {ROWS}")
    assert all(SSN_SHAPE.match(r[0]) for r in table(done))


def test_expressions_over_a_masked_column_are_masked_whole(psql, rules_gateway, clear):
    done = query(psql, rules_gateway,
                 "SELECT substr(ssn, 1, 3), ssn || '', lower(full_name) AS l, md5(ssn), length(ssn), "
                 f"concat('x', ssn) FROM patients ORDER BY id LIMIT {ROWS}")
    for cells, row in zip(table(done), clear):
        assert cells[0] == "[SSN]" and cells[1] == "[SSN]" and cells[3] == "[SSN]" and cells[5] == "[SSN]"
        assert cells[2] != row["full_name"].lower() and cells[2] != ""
        assert cells[4] == ""  # length(ssn) is an integer: a redacted value cannot be one, so NULL
    joined = "\n".join("|".join(c) for c in table(done))
    for row in clear:
        assert row["ssn"] not in joined and row["ssn"][:3] + "|" not in joined


def test_refuse_mode_refuses_derived_columns_and_keeps_plain_ones(psql, gateway, tmp_path):
    gw = gateway(extra=rules_config(tmp_path, derived_columns="refuse"))
    done = query(psql, gw, "SELECT lower(ssn) FROM patients LIMIT 1")
    assert done.returncode != 0
    assert "42501" in done.stderr and "computed from masked column public.patients.ssn" in done.stderr
    assert SSN_SHAPE.match(table(query(psql, gw, "SELECT ssn FROM patients LIMIT 1"))[0][0])


@pytest.mark.parametrize("sql", ["SELECT p FROM patients p LIMIT 1", "SELECT row_to_json(p) FROM patients p",
                                 "SELECT json_agg(p) FROM patients p", "SELECT to_jsonb(patients) FROM patients"])
def test_whole_rows_of_a_table_with_masked_columns_are_refused(psql, rules_gateway, sql):
    done = query(psql, rules_gateway, sql)
    assert done.returncode != 0 and "42501" in done.stderr
    assert "masking.whole_row" in done.stderr or "whole rows of public.patients" in done.stderr


def test_predicates_on_masked_columns_reach_the_policy(psql, rules_gateway):
    done = query(psql, rules_gateway, "SELECT id FROM patients WHERE ssn LIKE '123-%'")
    assert done.returncode != 0 and "42501" in done.stderr
    assert "no-guessing-ssn" in done.stderr and "filters on masked column public.patients.ssn" in done.stderr
    done = query(psql, rules_gateway, "SELECT id FROM patients ORDER BY full_name LIMIT 1")
    assert done.returncode != 0 and "public.patients.full_name" in done.stderr
    assert table(query(psql, rules_gateway, "SELECT count(*) FROM patients WHERE id < 3")) == [["2"]]


def test_rules_follow_table_oids_once_the_catalog_is_read(psql, rules_gateway, upstream_psql):
    """A column named like a masked one in another table is masked until the catalog is read (fail closed),
    then left alone; a view's column of the same name is masked by the catalog's dependency walk."""
    upstream_psql("-c", "DROP VIEW IF EXISTS rule_contacts; DROP TABLE IF EXISTS rule_other;"
                        "CREATE TABLE rule_other (ssn text); INSERT INTO rule_other VALUES ('not-an-id');"
                        "GRANT SELECT ON rule_other TO clinical_reader;"
                        "CREATE VIEW rule_contacts AS SELECT id, ssn FROM patients;"
                        "GRANT SELECT ON rule_contacts TO clinical_reader")
    try:
        deadline = time.monotonic() + 15
        while True:
            value = table(query(psql, rules_gateway, "SELECT ssn FROM rule_other"))[0][0]
            if value == "not-an-id" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert value == "not-an-id", "the catalog never told rule_other.ssn apart from patients.ssn"
        done = query(psql, rules_gateway, f"SELECT * FROM rule_contacts ORDER BY id LIMIT {ROWS}")
        assert all(SSN_SHAPE.match(r[1]) for r in table(done))
    finally:
        upstream_psql("-c", "DROP VIEW IF EXISTS rule_contacts; DROP TABLE IF EXISTS rule_other")


def copy_rows(done, csv_format: bool) -> list[list[str]]:
    assert done.returncode == 0, done.stderr
    if csv_format:
        return list(csv.reader(io.StringIO(done.stdout)))
    return [line.split("\t") for line in done.stdout.splitlines()]


@pytest.mark.parametrize("options,csv_format", [("", False), ("WITH (FORMAT csv)", True),
                                                ("WITH (FORMAT csv, HEADER, DELIMITER ';')", True)])
def test_copy_fields_follow_their_rules(psql, rules_gateway, clear, options, csv_format):
    sql = (f"COPY (SELECT id, full_name, ssn, dob FROM patients ORDER BY id LIMIT {ROWS}) TO STDOUT {options}")
    done = query(psql, rules_gateway, sql)
    text = done.stdout
    if "DELIMITER ';'" in options:
        assert text.splitlines()[0] == "id;full_name;ssn;dob"
        text = text.replace(";", ",").split("\n", 1)[1]
        done.stdout = text
    for (ident, name, ssn, dob), row in zip(copy_rows(done, csv_format), clear):
        assert ident == row["id"] and name != row["full_name"] and SSN_SHAPE.match(ssn)
        assert dob == row["dob"][:4] + "-01-01"


def test_copy_of_a_whole_table_uses_the_catalogs_column_order(psql, rules_gateway, clear):
    deadline = time.monotonic() + 15
    while True:  # the column list comes from the catalog, read in the background
        done = query(psql, rules_gateway, "COPY patients TO STDOUT WITH (FORMAT csv)")
        first = copy_rows(done, True)[0]
        if first[1] != clear[0]["full_name"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    by_id = {r["id"]: r for r in clear}
    for fields in copy_rows(done, True):
        if fields[0] in by_id:
            assert fields[1] != by_id[fields[0]]["full_name"] and SSN_SHAPE.match(fields[2])


def test_people_outside_masking_see_clear_columns(psql, gateway, tmp_path, clear):
    gw = gateway(extra=rules_config(tmp_path, unmasked_groups=["clinical"]))
    done = query(psql, gw, f"SELECT full_name, ssn, lower(ssn) FROM patients ORDER BY id LIMIT {ROWS}")
    assert [r[:2] for r in table(done)] == [[row["full_name"], row["ssn"]] for row in clear]


def test_pgjdbc_reads_rule_masked_columns_with_binary_transfer(gateway, pgjdbc_classes, tmp_path,  # noqa: F811
                                                               clear):
    gw = gateway(extra=rules_config(tmp_path))
    login = gw.login("bob")
    url = jdbc_url(gw.host, gw.port, sslmode="disable")
    command = ["java", "-cp", f"{pgjdbc_classes}:{PGJDBC_JAR}", "PgjdbcClient", "rules", url, login.user,
               login.password]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=client_environment())
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}\nlog:\n{gw.log_text()}"
    got = [line[len("ROW "):].split("\t") for line in done.stdout.splitlines() if line.startswith("ROW ")]
    assert len(got) == 10
    for (row_id, ssn, name, dob, n, ssn_int), row in zip(got, clear):
        assert row_id == row["id"] and SSN_SHAPE.match(ssn) and name != row["full_name"]
        assert dob in ("NULL", row["dob"][:4] + "-01-01")
        assert n == "NULL" and ssn_int == "NULL"
