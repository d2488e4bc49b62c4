// Integration client: drives pgjdbc features through a PostgreSQL endpoint and checks the results.
//
// Usage: java -cp <dir>:/usr/share/java/postgresql.jar PgjdbcClient <mode> <jdbc url> <user> <password>
// Modes: prepared, batch, errors, metadata, cancel, masked, rules.
//
// Prints one "PASS <check>" line per verified check and, for metadata, "COLUMN <name> <type>" lines that the
// test compares between endpoints; masked prints one "ROW" line per patient row (tab-separated values as the
// driver decoded them) for the test to compare with the upstream's answer. A mismatch prints "FAIL <check>: expected X, got Y" and exits 1; an
// unexpected exception exits 3.

import java.math.BigDecimal;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

public final class PgjdbcClient {
  private static final int EXIT_MISMATCH = 1;
  private static final int EXIT_USAGE = 2;
  private static final int EXIT_ERROR = 3;

  private boolean failed = false;

  private void check(String name, Object expected, Object actual) {
    if (Objects.equals(expected, actual)) {
      System.out.println("PASS " + name);
      return;
    }
    failed = true;
    System.out.println("FAIL " + name + ": expected " + expected + ", got " + actual);
  }

  // prepareThreshold=1 makes the first execution use a named server-side statement; binaryTransfer=true makes
  // pgjdbc ask for binary results for int, date, numeric and timestamp. Several executions re-use the
  // statement with new Bind messages.
  private void runPrepared(Connection conn) throws SQLException {
    String sql = "SELECT ?::int + 1 AS i, ?::text || '!' AS t, ?::date + 1 AS d, ?::numeric * 2 AS n, "
        + "?::timestamp + interval '90 minutes' AS ts";
    try (PreparedStatement ps = conn.prepareStatement(sql)) {
      Object[][] cases = {
        {41, "hello", "2024-02-28", "1.25", "2024-03-01 23:00:00", 42, "hello!", "2024-02-29", "2.50",
         "2024-03-02 00:30:00"},
        {-1, "ünï", "1999-12-31", "-0.005", "2000-01-01 00:00:00", 0, "ünï!", "2000-01-01", "-0.010",
         "2000-01-01 01:30:00"},
        {2147483646, "", "2020-01-01", "123456789.123456789", "2020-06-15 12:34:56.789", 2147483647, "!",
         "2020-01-02", "246913578.246913578", "2020-06-15 14:04:56.789"},
      };
      for (int round = 0; round < 2; ++round) {
        for (Object[] c : cases) {
          ps.setInt(1, (Integer) c[0]);
          ps.setString(2, (String) c[1]);
          ps.setDate(3, Date.valueOf((String) c[2]));
          ps.setBigDecimal(4, new BigDecimal((String) c[3]));
          ps.setTimestamp(5, Timestamp.valueOf((String) c[4]));
          try (ResultSet rs = ps.executeQuery()) {
            String label = "prepared round " + round + " input " + c[0];
            check(label + " has row", true, rs.next());
            check(label + " int", c[5], rs.getInt("i"));
            check(label + " text", c[6], rs.getString("t"));
            check(label + " date", Date.valueOf((String) c[7]), rs.getDate("d"));
            check(label + " numeric", new BigDecimal((String) c[8]), rs.getBigDecimal("n"));
            check(label + " timestamp", Timestamp.valueOf((String) c[9]), rs.getTimestamp("ts"));
            check(label + " single row", false, rs.next());
          }
        }
      }
    }
    try (PreparedStatement ps = conn.prepareStatement("SELECT count(*) FROM generate_series(1, ?) AS g")) {
      for (int n : new int[] {0, 1, 1000}) {
        ps.setInt(1, n);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          check("prepared generate_series count " + n, (long) n, rs.getLong(1));
        }
      }
    }
  }

  // executeBatch sends many Bind/Execute pairs before one Sync; the counts must match row for row.
  private void runBatch(Connection conn) throws SQLException {
    final int rows = 1000;
    try (Statement st = conn.createStatement()) {
      st.execute("CREATE TEMP TABLE itest_batch (id int PRIMARY KEY, label text, amount numeric(10,2))");
    }
    conn.setAutoCommit(false);
    try (PreparedStatement ps = conn.prepareStatement("INSERT INTO itest_batch VALUES (?, ?, ?)")) {
      for (int i = 1; i <= rows; ++i) {
        ps.setInt(1, i);
        ps.setString(2, "row-" + i);
        ps.setBigDecimal(3, new BigDecimal(i).movePointLeft(2));
        ps.addBatch();
      }
      int[] counts = ps.executeBatch();
      check("batch statement count", rows, counts.length);
      long inserted = 0;
      for (int c : counts) {
        inserted += (c == Statement.SUCCESS_NO_INFO) ? 1 : c;
      }
      check("batch update counts sum", (long) rows, inserted);
    }
    conn.commit();
    conn.setAutoCommit(true);
    try (Statement st = conn.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT count(*), sum(id), sum(amount), max(label) FROM itest_batch")) {
      rs.next();
      check("batch row count", (long) rows, rs.getLong(1));
      check("batch id sum", (long) rows * (rows + 1) / 2, rs.getLong(2));
      check("batch amount sum", new BigDecimal("5005.00"), rs.getBigDecimal(3));
      check("batch max label", "row-999", rs.getString(4));
    }
  }

  // Errors in the extended protocol: the server skips to Sync, and whatever sits between client and server
  // must keep every later response matched to its request.
  private void runErrors(Connection conn) throws SQLException {
    try (Statement st = conn.createStatement()) {
      st.execute("CREATE TEMP TABLE itest_errors (id int PRIMARY KEY)");
    }
    try (PreparedStatement ps = conn.prepareStatement("INSERT INTO itest_errors VALUES (?)")) {
      for (int id : new int[] {1, 2, 2, 3}) {
        ps.setInt(1, id);
        ps.addBatch();
      }
      String state = "none";
      try {
        ps.executeBatch();
      } catch (BatchUpdateException e) {
        state = e.getSQLState();
      }
      check("errors duplicate key in batch", "23505", state);
    }
    check("errors batch rolled back as one implicit transaction", 0L, count(conn, "itest_errors"));

    try (PreparedStatement ps = conn.prepareStatement("SELECT 10 / ?")) {
      for (int round = 0; round < 3; ++round) {
        ps.setInt(1, 0);
        String state = "none";
        try {
          ps.executeQuery().close();
        } catch (SQLException e) {
          state = e.getSQLState();
        }
        check("errors division by zero round " + round, "22012", state);
        ps.setInt(1, 5);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          check("errors prepared statement usable after error round " + round, 2, rs.getInt(1));
        }
      }
    }

    conn.setAutoCommit(false);
    try (Statement st = conn.createStatement()) {
      st.executeUpdate("INSERT INTO itest_errors VALUES (10)");
      String first = "none";
      String second = "none";
      try {
        st.execute("SELECT 1 / 0");
      } catch (SQLException e) {
        first = e.getSQLState();
      }
      try {
        st.execute("SELECT 1");
      } catch (SQLException e) {
        second = e.getSQLState();
      }
      check("errors failing statement in transaction", "22012", first);
      check("errors transaction aborted afterwards", "25P02", second);
      conn.rollback();
    }
    conn.setAutoCommit(true);
    check("errors rollback discarded the insert", 0L, count(conn, "itest_errors"));
  }

  private static long count(Connection conn, String table) throws SQLException {
    try (Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  // Prints every column's name and type so the test can compare the gateway with the database itself.
  private void runMetadata(Connection conn) throws SQLException {
    List<String> expected =
        List.of("id", "full_name", "ssn", "dob", "phone", "email", "mrn", "address", "zip", "notes");
    String sql = "SELECT " + String.join(", ", expected) + " FROM patients WHERE false";
    try (PreparedStatement ps = conn.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
      ResultSetMetaData md = rs.getMetaData();
      check("metadata column count", expected.size(), md.getColumnCount());
      for (int i = 1; i <= md.getColumnCount(); ++i) {
        check("metadata column " + i + " name", expected.get(i - 1), md.getColumnName(i));
        check("metadata column " + i + " table", "patients", md.getTableName(i));
        System.out.println("COLUMN " + md.getColumnName(i) + " " + md.getColumnTypeName(i) + " "
            + md.getColumnType(i) + " " + md.isNullable(i));
      }
      check("metadata no rows", false, rs.next());
    }
  }

  // Statement.cancel() sends a CancelRequest on a new connection using the BackendKeyData of this one; the
  // running statement must fail with query_canceled (57014) long before pg_sleep would return.
  private void runCancel(Connection conn) throws Exception {
    ScheduledExecutorService canceller = Executors.newSingleThreadScheduledExecutor();
    try (Statement st = conn.createStatement()) {
      canceller.schedule(() -> {
        try {
          st.cancel();
        } catch (SQLException e) {
          System.out.println("FAIL cancel request: " + e);
        }
        return null;
      }, 1, TimeUnit.SECONDS);
      long started = System.nanoTime();
      String state = "none";
      try {
        st.execute("SELECT pg_sleep(30)");
      } catch (SQLException e) {
        state = e.getSQLState();
      }
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      check("cancel sqlstate", "57014", state);
      check("cancel within 10 s", true, elapsedMs < 10000);
      System.out.println("INFO cancel elapsed_ms " + elapsedMs);
    } finally {
      canceller.shutdownNow();
    }
    try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT 7")) {
      rs.next();
      check("connection usable after cancel", 7, rs.getInt(1));
    }
  }

  // Reads patient rows with binary transfer on (int4/int8 columns arrive binary, text columns as text) through
  // a named prepared statement executed twice, so both the described and the re-used statement paths run.
  private void runMasked(Connection conn) throws SQLException {
    String sql = "SELECT id, ssn, email, notes, CAST(replace(ssn, '-', '') AS int) AS ssn_int, "
        + "CAST(replace(ssn, '-', '') AS bigint) AS ssn_bigint FROM patients WHERE id <= ? ORDER BY id";
    try (PreparedStatement ps = conn.prepareStatement(sql)) {
      for (int round = 0; round < 2; ++round) {
        ps.setInt(1, 30);
        int rows = 0;
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ++rows;
            int ssnInt = rs.getInt("ssn_int");
            boolean intNull = rs.wasNull();
            long ssnBigint = rs.getLong("ssn_bigint");
            boolean bigintNull = rs.wasNull();
            if (round == 1) {
              System.out.println("ROW " + rs.getInt("id") + "\t" + rs.getString("ssn") + "\t"
                  + rs.getString("email") + "\t" + rs.getString("notes") + "\t"
                  + (intNull ? "NULL" : Integer.toString(ssnInt)) + "\t"
                  + (bigintNull ? "NULL" : Long.toString(ssnBigint)));
            }
          }
        }
        check("masked round " + round + " rows", 30, rows);
      }
    }
  }

  // Column rules with binary transfer: getDate, getInt and getString on columns masked whole by a rule (or
  // computed from one) must return a value or SQL NULL, never throw.
  private void runRules(Connection conn) throws SQLException {
    String sql = "SELECT id, ssn, full_name, dob, length(ssn) AS n, "
        + "CAST(replace(ssn, '-', '') AS int) AS ssn_int FROM patients WHERE id <= ? ORDER BY id";
    try (PreparedStatement ps = conn.prepareStatement(sql)) {
      for (int round = 0; round < 2; ++round) {
        ps.setInt(1, 10);
        int rows = 0;
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ++rows;
            Date dob = rs.getDate("dob");
            int n = rs.getInt("n");
            boolean nNull = rs.wasNull();
            int ssnInt = rs.getInt("ssn_int");
            boolean ssnIntNull = rs.wasNull();
            if (round == 1) {
              System.out.println("ROW " + rs.getInt("id") + "\t" + rs.getString("ssn") + "\t"
                  + rs.getString("full_name") + "\t" + (dob == null ? "NULL" : dob.toString()) + "\t"
                  + (nNull ? "NULL" : Integer.toString(n)) + "\t"
                  + (ssnIntNull ? "NULL" : Integer.toString(ssnInt)));
            }
          }
        }
        check("rules round " + round + " rows", 10, rows);
      }
    }
  }

  public static void main(String[] args) {
    if (args.length != 4) {
      System.err.println("usage: PgjdbcClient <mode> <jdbc url> <user> <password>");
      System.exit(EXIT_USAGE);
    }
    PgjdbcClient client = new PgjdbcClient();
    try (Connection conn = DriverManager.getConnection(args[1], args[2], args[3])) {
      switch (args[0]) {
        case "prepared" -> client.runPrepared(conn);
        case "batch" -> client.runBatch(conn);
        case "metadata" -> client.runMetadata(conn);
        case "errors" -> client.runErrors(conn);
        case "cancel" -> client.runCancel(conn);
        case "masked" -> client.runMasked(conn);
        case "rules" -> client.runRules(conn);
        default -> {
          System.err.println("unknown mode: " + args[0]);
          System.exit(EXIT_USAGE);
        }
      }
    } catch (Exception e) {
      System.err.println("error: " + e);
      if (e instanceof SQLException sqlException) {
        System.err.println("sqlstate: " + sqlException.getSQLState());
      }
      System.exit(EXIT_ERROR);
    }
    System.exit(client.failed ? EXIT_MISMATCH : 0);
  }
}
