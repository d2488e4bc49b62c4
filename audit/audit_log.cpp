#include "audit/audit_log.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "audit/canonical_json.hpp"
#include "audit/grouping.hpp"

namespace phigate::audit {

namespace {

// How much lower than the sessions' threads the writer runs (nice increment).
constexpr int writer_nice_increment = 10;

// Appends one line to the checkpoint file and forces it to disk; "" or why not.
std::string append_line(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return "cannot open checkpoint file " + path + ": " + std::strerror(errno);
  const std::string text = line + "\n";
  std::size_t done = 0;
  std::string problem;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      problem = "cannot write checkpoint file " + path + ": " + std::strerror(errno);
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (problem.empty() && ::fsync(fd) != 0)
    problem = "cannot sync checkpoint file " + path + ": " + std::strerror(errno);
  ::close(fd);
  return problem;
}

// The calling thread's list of spent facts (see audit_log::spent_).
std::size_t origin_of_this_thread(std::size_t lists) {
  static std::atomic<std::size_t> next_origin{0};
  thread_local const std::size_t origin = next_origin.fetch_add(1, std::memory_order_relaxed);
  return origin % lists;
}

std::string person_of(const record_item& e) {
  return e.who ? e.who->person : std::string();
}

// An event that was finished where it happened.
class ready_event final : public pending_event {
 public:
  explicit ready_event(event e) : e_(std::move(e)) {}
  void items(std::vector<record_item>& out) override { out.push_back(view_of(e_)); }

 private:
  event e_;
};

}  // namespace

audit_log::audit_log(std::unique_ptr<store> s, log_options options, health_listener listener)
    : store_(std::move(s)), options_(std::move(options)), listener_(std::move(listener)) {
  if (auto problem = store_->head(head_); !problem.empty()) throw std::runtime_error(problem);
  if (head_.hash.empty()) head_.hash = std::string(genesis_hash);
  committed_seq_ = head_.seq;
  std::vector<checkpoint> existing;
  if (store_->checkpoints(existing).empty() && !existing.empty())
    checkpointed_seq_ = existing.back().tree_size;
  last_checkpoint_ = std::chrono::steady_clock::now();
  writer_ = std::thread([this] { run_writer(); });
}

audit_log::~audit_log() {
  close();
}

void audit_log::notify(log_notice notice, const std::string& message) {
  if (listener_) listener_(notice, message);
}

std::uint64_t audit_log::enqueue(std::unique_ptr<pending_event> e, bool urgent) {
  // Destroyed here, after the lock, on the appending thread: see spent_.
  std::array<std::unique_ptr<pending_event>, spent_per_append> spent;
  const std::size_t origin = origin_of_this_thread(spent_lists);
  auto& mine = spent_[origin];
  std::unique_lock lock(mutex_);
  for (auto& s : spent) {
    if (mine.empty()) break;
    s = std::move(mine.back());
    mine.pop_back();
    --spent_count_;
  }
  if (stopping_ || queue_.size() >= options_.max_pending_events) {
    // Only reachable while the store fails (or after close): the gateway is refusing statements by then.
    if (dropped_.fetch_add(1) == 0)
      notify(log_notice::warning, "audit events are being dropped: the queue of unwritten events is full");
    return 0;
  }
  const std::uint64_t ticket = ++next_ticket_;
  queue_.push_back({std::move(e), ticket, origin});
  urgent_ = urgent_ || urgent;
  const bool wake = writer_idle_ || (urgent && writer_gathering_);
  lock.unlock();
  if (wake) wake_writer_.notify_one();
  return ticket;
}

void audit_log::append(event e) {
  enqueue(std::make_unique<ready_event>(std::move(e)), false);
}

bool audit_log::append(std::unique_ptr<pending_event> e) {
  return enqueue(std::move(e), false) != 0;
}

bool audit_log::append_durable(event e) {
  return append_durable(std::make_unique<ready_event>(std::move(e)));
}

bool audit_log::append_durable(std::unique_ptr<pending_event> e) {
  const bool was_healthy = healthy();
  const std::uint64_t ticket = enqueue(std::move(e), true);
  if (ticket == 0 || !was_healthy) return false;
  std::unique_lock lock(mutex_);
  committed_.wait(lock, [&] { return committed_ticket_ >= ticket || failed_ticket_ >= ticket || closed_; });
  return committed_ticket_ >= ticket;
}

std::string audit_log::unhealthy_reason() const {
  std::lock_guard lock(mutex_);
  return healthy() ? std::string() : reason_;
}

void audit_log::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t ticket = next_ticket_;
  urgent_ = true;
  if (writer_idle_ || writer_gathering_) wake_writer_.notify_one();
  committed_.wait(lock, [&] { return committed_ticket_ >= ticket || failed_ticket_ >= ticket || closed_; });
}

void audit_log::close() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      if (!writer_.joinable()) return;
    }
    stopping_ = true;
  }
  wake_writer_.notify_one();
  if (writer_.joinable()) writer_.join();
}

void audit_log::set_health(bool healthy, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    reason_ = healthy ? std::string() : reason;
  }
  const bool was = healthy_.exchange(healthy, std::memory_order_acq_rel);
  if (was && !healthy) notify(log_notice::unhealthy, reason);
  if (!was && healthy)
    notify(log_notice::recovered, "audit log recovered: " + store_->describe() + " is writable");
}

void audit_log::fail_batch(const std::vector<pending>& batch, const std::string& reason) {
  set_health(false, reason);
  std::lock_guard lock(mutex_);
  failed_ticket_ = std::max(failed_ticket_, batch.back().ticket);
  committed_.notify_all();
}

std::vector<stored_record> audit_log::encode_batch(const std::vector<pending>& batch, std::string& prev) {
  std::vector<record_item> items;
  items.reserve(batch.size());
  for (const auto& p : batch) p.source->items(items);
  std::vector<stored_record> records;
  records.reserve(batch.size());
  std::uint64_t seq = head_.seq;
  for (const auto& group : group_records(items)) {
    const record_item& first = *group.front();
    stored_record r;
    r.seq = ++seq;
    r.time_us = to_unix_us(first.time);
    r.kind = std::string(to_string(group.size() == 1 ? first.kind : event_kind::statements));
    r.person = person_of(first);
    r.body =
        group.size() == 1 ? encode_record_body(first, r.seq, prev) : encode_group_body(group, r.seq, prev);
    r.hash = sha256_hex(r.body);
    prev = r.hash;
    records.push_back(std::move(r));
  }
  return records;
}

void audit_log::return_spent(std::vector<pending>& batch) {
  {
    std::lock_guard lock(mutex_);
    for (auto& p : batch) {
      if (spent_count_ >= options_.max_pending_events) break;
      spent_[p.origin].push_back(std::move(p.source));
      ++spent_count_;
    }
  }
  batch.clear();  // beyond that bound (no appends for a long while): here
}

bool audit_log::write_batch(std::vector<pending>& batch, bool sync) {
  if (!healthy()) {
    // The connection may be stuck on a file that is gone or a journal it cannot roll back: start afresh. A
    // deleted file is recreated and the chain continues from the last committed record, so `verify` on the
    // new file reports exactly the records that were lost with the old one.
    if (auto problem = store_->reopen(); !problem.empty()) {
      fail_batch(batch, problem);
      return false;
    }
  }
  if (auto problem = store_->check(); !problem.empty()) {
    fail_batch(batch, problem);
    return false;
  }
  std::string prev = head_.hash;
  auto records = encode_batch(batch, prev);
  const auto now = std::chrono::steady_clock::now();
  sync = sync || options_.sync_interval.count() <= 0 ||
         (unsynced_ && now - unsynced_since_ >= options_.sync_interval);
  if (auto problem = store_->append(records, sync); !problem.empty()) {
    fail_batch(batch, problem);
    return false;
  }
  if (sync) {
    unsynced_ = false;
  } else if (!unsynced_) {
    unsynced_ = true;
    unsynced_since_ = now;
  }
  if (!records.empty()) head_ = {records.back().seq, prev};  // a batch may build no events
  committed_seq_.store(head_.seq);
  {
    std::lock_guard lock(mutex_);
    committed_ticket_ = batch.back().ticket;
    committed_.notify_all();
  }
  return_spent(batch);
  if (!healthy()) set_health(true, {});
  return true;
}

void audit_log::sync_if_due(bool force) {
  if (!unsynced_ || !healthy()) return;
  if (!force && std::chrono::steady_clock::now() - unsynced_since_ < options_.sync_interval) return;
  if (auto problem = store_->sync(); !problem.empty()) {
    set_health(false, problem);  // the next batch reopens the store
    return;
  }
  unsynced_ = false;
}

std::chrono::steady_clock::time_point audit_log::idle_deadline() const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
  if (options_.signer && head_.seq != checkpointed_seq_)
    deadline = std::min(deadline, last_checkpoint_ + options_.checkpoint_interval);
  if (unsynced_) deadline = std::min(deadline, unsynced_since_ + options_.sync_interval);
  return deadline;
}

void audit_log::maybe_checkpoint(bool force) {
  if (!options_.signer || head_.seq == checkpointed_seq_ || !healthy()) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_checkpoint_ < options_.checkpoint_interval) return;
  last_checkpoint_ = now;
  checkpoint c;
  c.tree_size = head_.seq;
  c.head_hash = head_.hash;
  c.time = format_time(std::chrono::system_clock::now());
  c.key_id = options_.signer->key_id();
  c.signature = options_.signer->sign_hex(c.signed_message());
  if (auto problem = store_->add_checkpoint(c); !problem.empty()) {
    notify(log_notice::warning, "audit checkpoint not stored: " + problem);
    return;
  }
  unsynced_ = false;  // the checkpoint's commit synced every record before it
  checkpointed_seq_ = c.tree_size;
  if (options_.checkpoint_file.empty()) return;
  if (auto problem = append_line(options_.checkpoint_file, c.to_json_line()); !problem.empty())
    notify(log_notice::warning, problem);
}

void audit_log::gather(std::unique_lock<std::mutex>& lock) {
  if (urgent_ || stopping_ || queue_.empty() || options_.commit_delay.count() <= 0) return;
  writer_gathering_ = true;
  wake_writer_.wait_for(lock, options_.commit_delay,
                        [&] { return urgent_ || stopping_ || queue_.size() >= options_.max_batch_records; });
  writer_gathering_ = false;
}

void audit_log::run_writer() {
  // Sessions never wait for this thread except for durable events, so it yields the CPU to them: on a busy
  // machine the records queue up a little longer and commit in larger groups instead of slowing statements.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), writer_nice_increment);
  ::pthread_setname_np(::pthread_self(), "phigate-audit");  // for top -H, perf and ps
  std::vector<pending> batch;
  bool sync_batch = false;  // someone waits for the batch's commit: it must reach stable storage
  bool retried_after_stop = false;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (batch.empty()) {
        writer_idle_ = true;
        wake_writer_.wait_until(lock, idle_deadline(), [&] { return !queue_.empty() || stopping_; });
        writer_idle_ = false;
        if (queue_.empty() && stopping_) break;
        gather(lock);
      }
      // Group commit: whatever queued up while the previous transaction was syncing goes in this one.
      const std::size_t room =
          options_.max_batch_records > batch.size() ? options_.max_batch_records - batch.size() : 0;
      const std::size_t take = std::min(room, queue_.size());
      sync_batch = sync_batch || urgent_;
      if (take == queue_.size()) urgent_ = false;  // whoever waits is in this batch
      if (batch.empty() && take == queue_.size()) {
        batch.swap(queue_);
      } else {
        std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take),
                  std::back_inserter(batch));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
      }
    }
    if (!batch.empty() && write_batch(batch, sync_batch)) {
      batch.clear();
      sync_batch = false;
    } else if (!batch.empty()) {
      std::unique_lock lock(mutex_);
      if (stopping_) {
        if (retried_after_stop) {
          const std::string message = "audit log stopping with " +
                                      std::to_string(batch.size() + queue_.size()) +
                                      " events that could not be written: " + reason_;
          lock.unlock();
          notify(log_notice::warning, message);
          break;
        }
        retried_after_stop = true;
      }
      wake_writer_.wait_for(lock, options_.retry_interval, [&] { return stopping_ && !retried_after_stop; });
      continue;
    }
    maybe_checkpoint(false);
    sync_if_due(false);
  }
  maybe_checkpoint(true);
  sync_if_due(true);
  std::lock_guard lock(mutex_);
  closed_ = true;
  committed_.notify_all();
}

}  // namespace phigate::audit
