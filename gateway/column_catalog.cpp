#include "gateway/column_catalog.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace phigate {
namespace {

using clock = std::chrono::steady_clock;

// After a failed read, try again this soon rather than at the full refresh interval.
constexpr std::chrono::seconds retry_after{5};

struct pg_connection_deleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct pg_result_deleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using connection_ptr = std::unique_ptr<PGconn, pg_connection_deleter>;
using result_ptr = std::unique_ptr<PGresult, pg_result_deleter>;

std::string literal(PGconn* c, const std::string& text) {
  char* quoted = PQescapeLiteral(c, text.data(), text.size());
  if (quoted == nullptr) return "NULL";
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

// `WITH r(nsp, rel, col, idx) AS (VALUES ...)`: every rule as a row, so each query joins the catalog once.
std::string rules_cte(PGconn* c, const std::vector<masking::column_rule>& rules) {
  std::string out = "WITH r(nsp, rel, col, idx) AS (VALUES ";
  for (std::size_t i = 0; i < rules.size(); ++i) {
    out += (i ? ", (" : "(") + literal(c, rules[i].schema) + "::name, " + literal(c, rules[i].table) +
           "::name, " + literal(c, rules[i].column) + "::name, " + std::to_string(i) + ")";
  }
  return out + ") ";
}

// Rule columns themselves, and same-named columns of views and materialized views built on them.
constexpr std::string_view rule_columns_query = R"(
SELECT c.oid, a.attnum, r.idx
  FROM r JOIN pg_catalog.pg_namespace n ON n.nspname = r.nsp
  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = r.rel
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = r.col AND a.attnum > 0
                                AND NOT a.attisdropped
UNION
SELECT v.oid, va.attnum, r.idx
  FROM r JOIN pg_catalog.pg_namespace n ON n.nspname = r.nsp
  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = r.rel
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = r.col AND a.attnum > 0
  JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = c.oid
                             AND d.refobjsubid = a.attnum AND d.classid = 'pg_catalog.pg_rewrite'::regclass
  JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid
  JOIN pg_catalog.pg_class v ON v.oid = rw.ev_class AND v.oid <> c.oid
  JOIN pg_catalog.pg_attribute va ON va.attrelid = v.oid AND va.attname = r.col AND va.attnum > 0
                                 AND NOT va.attisdropped
)";

constexpr std::string_view table_columns_query = R"(
SELECT n.nspname || '.' || c.relname, a.attname
  FROM (SELECT DISTINCT nsp, rel FROM r) t JOIN pg_catalog.pg_namespace n ON n.nspname = t.nsp
  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.rel
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY c.oid, a.attnum
)";

template <class T>
T number(const PGresult* r, int row, int column) {
  T value{};
  const char* text = PQgetvalue(r, row, column);
  std::from_chars(text, text + PQgetlength(r, row, column), value);
  return value;
}

result_ptr run_query(PGconn* c, const std::string& sql, std::string& error) {
  result_ptr r(PQexec(c, sql.c_str()));
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    error = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(c);
    return nullptr;
  }
  return r;
}

}  // namespace

std::optional<std::size_t> column_index::find(std::uint32_t table_oid, std::int16_t attnum) const {
  const auto it = rules_.find((std::uint64_t{table_oid} << 16) | static_cast<std::uint16_t>(attnum));
  if (it == rules_.end()) return std::nullopt;
  return it->second;
}

const std::vector<std::string>* column_index::columns_of(const std::string& qualified_table) const {
  const auto it = table_columns_.find(qualified_table);
  return it == table_columns_.end() ? nullptr : &it->second;
}

void column_index::add(std::uint32_t table_oid, std::int16_t attnum, std::size_t rule) {
  // The first rule for a column wins (a view column may match two rules of the same name).
  rules_.emplace((std::uint64_t{table_oid} << 16) | static_cast<std::uint16_t>(attnum), rule);
}

void column_index::add_column(const std::string& qualified_table, std::string column) {
  table_columns_[qualified_table].push_back(std::move(column));
}

column_catalog::column_catalog(std::vector<masking::column_rule> rules, connection_settings settings,
                               std::chrono::seconds refresh)
    : rules_(std::move(rules)),
      settings_(std::move(settings)),
      refresh_(refresh),
      thread_([this](std::stop_token stop) { run(stop); }) {}

column_catalog::~column_catalog() {
  thread_.request_stop();
  wake_.notify_all();
}

std::shared_ptr<const column_index> column_catalog::index(const std::string& database) {
  std::lock_guard lock(mutex_);
  auto [it, added] = databases_.try_emplace(database);
  if (added) {
    it->second.due = clock::now();
    ++wakeups_;
    wake_.notify_all();
  }
  return it->second.index;
}

void column_catalog::refresh(const std::string& database, std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  auto& e = databases_[database];
  e.due = std::min(e.due == clock::time_point{} ? clock::time_point::max() : e.due, clock::now() + delay);
  ++wakeups_;
  wake_.notify_all();
}

std::shared_ptr<const column_index> column_catalog::load(const std::string& database,
                                                         std::string& error) const {
  const std::string port = std::to_string(settings_.port);
  std::vector<const char*> keys = {
      "host", "port", "user", "password", "dbname", "sslmode", "connect_timeout", "application_name"};
  std::vector<const char*> values = {settings_.host.c_str(),
                                     port.c_str(),
                                     settings_.user.c_str(),
                                     settings_.password.c_str(),
                                     database.c_str(),
                                     settings_.sslmode.c_str(),
                                     "5",
                                     "phigate metadata"};
  if (!settings_.sslrootcert.empty())
    keys.push_back("sslrootcert"), values.push_back(settings_.sslrootcert.c_str());
  keys.push_back(nullptr);
  values.push_back(nullptr);
  connection_ptr c(PQconnectdbParams(keys.data(), values.data(), 0));
  if (!c || PQstatus(c.get()) != CONNECTION_OK) {
    error = c ? PQerrorMessage(c.get()) : "out of memory";
    return nullptr;
  }
  auto index = std::make_shared<column_index>();
  const std::string cte = rules_cte(c.get(), rules_);
  auto columns = run_query(c.get(), cte + std::string(rule_columns_query), error);
  auto tables = columns ? run_query(c.get(), cte + std::string(table_columns_query), error) : nullptr;
  auto max_oid = tables ? run_query(c.get(), "SELECT max(oid) FROM pg_catalog.pg_class", error) : nullptr;
  if (!max_oid) return nullptr;
  for (int row = 0; row < PQntuples(columns.get()); ++row) {
    index->add(number<std::uint32_t>(columns.get(), row, 0), number<std::int16_t>(columns.get(), row, 1),
               number<std::size_t>(columns.get(), row, 2));
  }
  for (int row = 0; row < PQntuples(tables.get()); ++row)
    index->add_column(PQgetvalue(tables.get(), row, 0), PQgetvalue(tables.get(), row, 1));
  index->set_max_relation_oid(number<std::uint32_t>(max_oid.get(), 0, 0));
  return index;
}

std::optional<std::string> column_catalog::next_due(std::unique_lock<std::mutex>& lock,
                                                    std::stop_token& stop) {
  while (!stop.stop_requested()) {
    auto soonest = clock::time_point::max();
    for (auto& [name, e] : databases_) {
      if (e.due <= clock::now()) return name;
      soonest = std::min(soonest, e.due);
    }
    const std::uint64_t seen = wakeups_;
    const auto woken = [&] { return wakeups_ != seen; };
    if (soonest == clock::time_point::max())
      wake_.wait(lock, stop, woken);
    else
      wake_.wait_until(lock, stop, soonest, woken);
  }
  return std::nullopt;
}

void column_catalog::run(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (auto database = next_due(lock, stop)) {
    databases_[*database].due = clock::now() + refresh_;
    lock.unlock();
    std::string error;
    auto index = load(*database, error);
    lock.lock();
    auto& e = databases_[*database];
    if (index) {
      e.index = std::move(index);
      e.failed_logged = false;
      continue;
    }
    // Sessions keep masking by column name meanwhile; say so once per failure streak.
    if (!e.failed_logged) {
      spdlog::warn(
          "masking: cannot read the catalog of database {} (column rules apply by name until it "
          "can): {}",
          *database, error);
      e.failed_logged = true;
    }
    e.due = std::min(e.due, clock::now() + retry_after);
  }
}

}  // namespace phigate
