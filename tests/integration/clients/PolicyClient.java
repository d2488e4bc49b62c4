// Integration client for policy decisions over the extended protocol (pgjdbc sends every statement as
// Parse/Bind/Execute, so phigate judges it at Execute).
//
// Usage: java -cp <dir>:/usr/share/java/postgresql.jar PolicyClient <jdbc url> <user> <password> <sql>...
//
// Runs each SQL argument as a prepared statement on one connection and prints one line per statement:
//   OK <rows>                   the statement ran (rows: rows returned, or the update count)
//   ERROR <sqlstate> <message>  the statement failed
// An argument "BEGIN" turns autocommit off and "ROLLBACK" rolls back and turns it on again, so a test can
// check the transaction state a refusal leaves behind. An unexpected exception exits 3.

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

public final class PolicyClient {
  private static final int EXIT_USAGE = 2;
  private static final int EXIT_ERROR = 3;

  private static String run(Connection connection, String sql) throws SQLException {
    if (sql.equals("BEGIN")) {
      connection.setAutoCommit(false);
      return "OK 0";
    }
    if (sql.equals("ROLLBACK")) {
      connection.rollback();
      connection.setAutoCommit(true);
      return "OK 0";
    }
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      if (!statement.execute()) return "OK " + statement.getUpdateCount();
      int rows = 0;
      try (ResultSet result = statement.getResultSet()) {
        while (result.next()) ++rows;
      }
      return "OK " + rows;
    } catch (SQLException e) {
      String message = e.getMessage() == null ? "" : e.getMessage().replace('\n', ' ');
      return "ERROR " + e.getSQLState() + " " + message;
    }
  }

  public static void main(String[] args) {
    if (args.length < 4) {
      System.err.println("usage: PolicyClient <jdbc url> <user> <password> <sql>...");
      System.exit(EXIT_USAGE);
    }
    try (Connection connection = DriverManager.getConnection(args[0], args[1], args[2])) {
      for (int i = 3; i < args.length; ++i) System.out.println(run(connection, args[i]));
    } catch (SQLException e) {
      System.err.println(e.getMessage() + " sqlstate: " + e.getSQLState());
      System.exit(EXIT_ERROR);
    }
  }
}
