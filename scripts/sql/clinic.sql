-- The clinic database used by the demo and the integration tests: PHI tables (patients, visits, billing), tables
-- without PHI (clinics, inventory) and the upstream roles phigate connects as. Every person, number and address
-- here is generated and synthetic: names are made up, phones use the fictional 555-01xx block, e-mail goes to
-- example.com, card numbers are Luhn-valid test numbers.
--
-- Run as the superuser, connected to the postgres database, with these psql variables set:
--   patients                  number of patients to generate
--   clinical_reader_password, app_writer_password, clinic_owner_password, phigate_meta_password
-- Safe to run again: roles get the given passwords, tables and grants are created if missing, data is generated
-- only while patients is empty.

\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;

-- Roles ------------------------------------------------------------------------------------------------------

SELECT format('CREATE ROLE %I', r)
  FROM unnest(ARRAY['clinic_owner', 'clinical_reader', 'app_writer', 'phigate_meta']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
\gexec

ALTER ROLE clinic_owner LOGIN CREATEROLE NOSUPERUSER NOCREATEDB PASSWORD :'clinic_owner_password';
ALTER ROLE clinical_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'clinical_reader_password';
ALTER ROLE app_writer LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_writer_password';
ALTER ROLE phigate_meta LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'phigate_meta_password';

SELECT 'CREATE DATABASE clinic OWNER clinic_owner'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'clinic')
\gexec

-- Only the named roles may connect; no temporary tables for PUBLIC.
REVOKE ALL ON DATABASE clinic FROM PUBLIC;
GRANT CONNECT ON DATABASE clinic TO clinical_reader, app_writer, phigate_meta;

\connect clinic
SET client_min_messages = warning;
SET ROLE clinic_owner;

-- Tables -----------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS clinics (
  id   serial PRIMARY KEY,
  name text NOT NULL,
  city text NOT NULL
);

CREATE TABLE IF NOT EXISTS inventory (
  id   serial PRIMARY KEY,
  sku  text NOT NULL UNIQUE,
  item text NOT NULL,
  qty  integer NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS patients (
  id        serial PRIMARY KEY,
  full_name text NOT NULL,
  ssn       text,
  dob       date,
  phone     text,
  email     text,
  mrn       text UNIQUE,
  address   text,
  zip       text,
  notes     text
);

CREATE TABLE IF NOT EXISTS visits (
  id           serial PRIMARY KEY,
  patient_id   integer NOT NULL REFERENCES patients (id),
  visit_date   date NOT NULL,
  reason       text,
  diagnosis    text,  -- ICD-10-CM code
  provider_npi text
);
CREATE INDEX IF NOT EXISTS visits_patient_id_idx ON visits (patient_id);

CREATE TABLE IF NOT EXISTS billing (
  id          serial PRIMARY KEY,
  patient_id  integer NOT NULL REFERENCES patients (id),
  card_number text,
  amount      numeric(10, 2) NOT NULL,
  billed_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS billing_patient_id_idx ON billing (patient_id);

-- Grants -----------------------------------------------------------------------------------------------------

GRANT USAGE ON SCHEMA public TO clinical_reader, app_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO clinical_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON clinics, inventory TO app_writer;
GRANT USAGE ON SEQUENCE clinics_id_seq, inventory_id_seq TO app_writer;

-- Data -------------------------------------------------------------------------------------------------------

-- Completes a digit string with its Luhn check digit (card numbers; NPIs after the 80840 prefix).
CREATE FUNCTION pg_temp.luhn_check_digit(payload text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT ((10 - sum(CASE WHEN pos % 2 = 1 THEN (d * 2) / 10 + (d * 2) % 10 ELSE d END) % 10) % 10)::text
    FROM (SELECT substr(reverse(payload), pos, 1)::int AS d, pos
            FROM generate_series(1, length(payload)) AS pos) AS digits
$$;

SELECT NOT EXISTS (SELECT 1 FROM clinics) AS load_clinics \gset
\if :load_clinics
INSERT INTO clinics (name, city)
VALUES ('Harborview Family Practice', 'Springfield'), ('Lakeside Pediatrics', 'Riverton'),
       ('Fairview Internal Medicine', 'Fairview'), ('Greenville Cardiology', 'Greenville'),
       ('Milford Urgent Care', 'Milford'), ('Ashland Orthopedics', 'Ashland'),
       ('Brookhaven Dermatology', 'Brookhaven'), ('Cedar Hill Women''s Health', 'Springfield');

INSERT INTO inventory (sku, item, qty)
SELECT format('SKU-%s', lpad(i::text, 4, '0')),
       (ARRAY['Nitrile gloves, box of 100', 'Gauze pads 4x4', 'Syringe 3 mL', 'Alcohol prep pads',
              'Exam table paper', 'Tongue depressors', 'Blood pressure cuff', 'Pulse oximeter',
              'Surgical masks, box of 50', 'Adhesive bandages'])[1 + (i - 1) % 10]
         || CASE WHEN i > 10 THEN format(' (lot %s)', (i - 1) / 10) ELSE '' END,
       (i * 37) % 500
  FROM generate_series(1, 40) AS i;
\endif

SELECT NOT EXISTS (SELECT 1 FROM patients) AS load_patients \gset
\if :load_patients
BEGIN;

INSERT INTO patients (id, full_name, ssn, dob, phone, email, mrn, address, zip, notes)
SELECT i, full_name, ssn, dob, phone, email, mrn, address, zip,
       CASE i % 6
         WHEN 0 THEN format('Pt called from %s re: refill; SSN %s on file', phone, ssn)
         WHEN 1 THEN format('Results emailed to %s; follow up in 2 weeks', email)
         WHEN 2 THEN 'No concerns at this visit.'
         WHEN 3 THEN format('Spouse asked to update address to %s', address)
         WHEN 4 THEN format('DOB %s confirmed at check-in, %s', to_char(dob, 'MM/DD/YYYY'), mrn)
         ELSE 'Prefers morning appointments.'
       END
  FROM (
    SELECT i,
           format('%s %s. %s', first_name, chr(65 + (i * 7) % 26), last_name) AS full_name,
           -- Areas 001-664 only: never 000, 666 or 9xx.
           format('%s-%s-%s', lpad((1 + (i * 31) % 664)::text, 3, '0'), lpad((1 + (i * 7) % 99)::text, 2, '0'),
                  lpad((1 + (i * 13) % 9999)::text, 4, '0')) AS ssn,
           date '1935-01-01' + ((i::bigint * 2654435761) % 30000)::int AS dob,
           format('%s-555-01%s', (ARRAY['206', '312', '415', '503', '617', '702', '808', '919'])[1 + i % 8],
                  lpad((i % 100)::text, 2, '0')) AS phone,
           format('%s.%s%s@example.com', lower(first_name), lower(last_name), i) AS email,
           format('MRN%s', lpad(i::text, 7, '0')) AS mrn,
           format('%s %s, %s', 100 + (i * 53) % 9800,
                  (ARRAY['Maple St', 'Oak Ave', 'Cedar Ln', 'Birch Rd', 'Willow Way', 'Elm Ct', 'Aspen Dr',
                         'Harbor Blvd'])[1 + i % 8],
                  (ARRAY['Springfield', 'Riverton', 'Fairview', 'Lakeside', 'Greenville', 'Milford', 'Ashland',
                         'Brookhaven'])[1 + (i + i / 8) % 8]) AS address,
           lpad((10000 + (i * 7919) % 89999)::text, 5, '0') AS zip
      FROM generate_series(1, :patients) AS i
     CROSS JOIN LATERAL (
       SELECT (ARRAY['Avery', 'Blake', 'Carmen', 'Dorian', 'Elena', 'Farid', 'Greta', 'Hiro', 'Imani', 'Jonas',
                     'Keiko', 'Luca', 'Mirela', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rafael', 'Sana', 'Tobias',
                     'Uma', 'Viktor', 'Wren', 'Ximena', 'Yusuf', 'Zara'])[1 + i % 26] AS first_name,
              (ARRAY['Abernathy', 'Brightwater', 'Castellano', 'Dunmore', 'Eastwood', 'Fairbanks', 'Galloway',
                     'Hollister', 'Ingram', 'Jessup', 'Kowalczyk', 'Lindqvist', 'Marchetti', 'Nakamura',
                     'Okonkwo', 'Pendleton', 'Quist', 'Rosales', 'Sorensen', 'Thornbury', 'Underhill',
                     'Vasquez', 'Whitcombe', 'Yardley', 'Zielinski'])[1 + (i * 7) % 25] AS last_name
     ) AS names
  ) AS generated;

SELECT setval(pg_get_serial_sequence('patients', 'id'), (SELECT max(id) FROM patients)) AS patients_id_next \gset

-- Two to four visits per patient (three on average), each with a provider from a small set of valid NPIs.
WITH providers AS (
  SELECT array_agg(base || pg_temp.luhn_check_digit('80840' || base) ORDER BY j) AS npis
    FROM (SELECT j, (123456700 + j * 1117)::text AS base FROM generate_series(1, 20) AS j) AS b
), diagnoses AS (
  SELECT ARRAY['E11.9', 'I10', 'J06.9', 'M54.50', 'Z00.00', 'F41.1', 'K21.9', 'R51.9', 'N39.0', 'E78.5']
           AS codes,
         ARRAY['Diabetes follow-up', 'Blood pressure check', 'Sore throat and cough', 'Low back pain',
               'Annual physical', 'Anxiety follow-up', 'Heartburn', 'Headache', 'Urinary symptoms',
               'Cholesterol review'] AS reasons
)
INSERT INTO visits (patient_id, visit_date, reason, diagnosis, provider_npi)
SELECT p.id,
       date '2022-01-01' + (p.id * 37 + k * 101) % 1000,
       d.reasons[1 + (p.id + k * 3) % 10],
       d.codes[1 + (p.id + k * 3) % 10],
       pr.npis[1 + (p.id + k) % 20]
  FROM patients AS p
 CROSS JOIN generate_series(1, 4) AS k
 CROSS JOIN providers AS pr
 CROSS JOIN diagnoses AS d
 WHERE k <= 2 + p.id % 3
 ORDER BY p.id, k;

-- One or two charges per patient on Luhn-valid test card numbers.
INSERT INTO billing (patient_id, card_number, amount, billed_at)
SELECT p.id,
       payload || pg_temp.luhn_check_digit(payload),
       round(15 + ((p.id * 37 + k * 101) % 50000) / 100.0, 2),
       timestamptz '2024-01-01 09:00:00+00'
         + make_interval(days => (p.id * 13 + k * 7) % 365, mins => (p.id * 17) % 600)
  FROM patients AS p
 CROSS JOIN generate_series(1, 2) AS k
 CROSS JOIN LATERAL (
   SELECT (ARRAY['4000', '5100', '6011'])[1 + (p.id + k) % 3]
            || lpad(((p.id::bigint * 104729 + k * 7919) % 100000000000)::text, 11, '0') AS payload
 ) AS card
 WHERE k <= 1 + p.id % 2
 ORDER BY p.id, k;

COMMIT;
ANALYZE patients, visits, billing, clinics, inventory;
\else
\echo clinic: patients already present, data kept
\endif

RESET ROLE;
