// The append-only, hash-chained audit log. Any thread appends; one writer thread numbers the events, chains
// them (each record's body carries the previous record's hash) and commits whatever has queued up in one
// store transaction (group commit), so the hot path never waits on fsync for ordinary events; those
// commits are synced to stable storage within sync_interval. A caller may hand over a pending_event instead
// of a finished event: the writer thread then does the costly part of building it (keyed hashes, lists), and
// the caller only pays for copying what it saw. One pending_event may stand for several events (the gateway
// queues a session's statements as one batch that the session fills until the writer takes it). Events that
// must be on disk before the gateway acts on them (a denial, a hold, an approval step) use append_durable,
// which waits for their commit.
//
// When the store fails (disk full, read-only, file deleted), the log turns unhealthy with the reason, keeps
// the unwritten events in memory (bounded), and retries; it turns healthy again after the first successful
// commit. The gateway refuses statements while the log is unhealthy (fail closed).
//
// Every checkpoint_interval, when records were added, the writer signs a checkpoint (tree size, head hash,
// time) with the Ed25519 key, stores it, and appends it to the checkpoint file.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/crypto.hpp"
#include "audit/event.hpp"
#include "audit/record_item.hpp"
#include "audit/store.hpp"

namespace phigate::audit {

struct log_options {
  std::shared_ptr<const signing_key> signer;  ///< null: no checkpoints
  std::string checkpoint_file;                ///< "" = checkpoints only in the store
  std::chrono::milliseconds checkpoint_interval{60'000};
  std::chrono::milliseconds retry_interval{1'000};  ///< between attempts while the store fails
  std::size_t max_pending_events = 100'000;  ///< beyond this, while the store fails, events are dropped
  std::size_t max_batch_records = 8'192;     ///< per transaction
  /// How long ordinary events gather before the writer commits them: one transaction per few hundred
  /// records instead of a few, so far fewer pages are written and far fewer wake-ups happen per record.
  /// Durable appends and flush() never wait for it.
  std::chrono::milliseconds commit_delay{50};
  /// Ordinary events are committed without waiting for the disk (a crash of the gateway never loses a
  /// committed record); at most this long after their commit they are synced to stable storage, so a power
  /// loss or OS crash can take at most this much of them. Durable appends, flush() and checkpoints always
  /// sync (and with them everything before).
  std::chrono::milliseconds sync_interval{200};
};

/// The facts of one or more events as captured where they happened; the writer thread encodes their records
/// from them.
class pending_event {
 public:
  virtual ~pending_event() = default;
  /// Writer thread, in append order (and again for a batch retried after a failed commit): appends views of
  /// the events to `out`, in their order, valid while this object lives.
  virtual void items(std::vector<record_item>& out) = 0;
};

/// What the writer thread reports to the gateway's log.
enum class log_notice {
  unhealthy,  ///< the store failed; statements must be refused until it recovers
  recovered,  ///< a commit succeeded again
  warning,    ///< something that does not stop the log (checkpoint file not writable, events dropped)
};
using health_listener = std::function<void(log_notice notice, const std::string& message)>;

class audit_log {
 public:
  /// Reads the chain head from the store and starts the writer. Throws std::runtime_error when the store
  /// cannot be read.
  audit_log(std::unique_ptr<store> s, log_options options, health_listener listener = {});
  ~audit_log();
  audit_log(const audit_log&) = delete;
  audit_log& operator=(const audit_log&) = delete;

  /// Queues an event and returns at once.
  void append(event e);
  /// Queues events and returns at once; false when they were dropped (see dropped_events()).
  bool append(std::unique_ptr<pending_event> e);
  /// Queues an event and waits until it is committed. False when the log is unhealthy or the commit
  /// failed: the caller must not act as if the event were recorded (the event stays queued and is written
  /// once the store recovers).
  bool append_durable(event e);
  bool append_durable(std::unique_ptr<pending_event> e);

  [[nodiscard]] bool healthy() const noexcept { return healthy_.load(std::memory_order_acquire); }
  /// Why the log is unhealthy ("" when healthy).
  [[nodiscard]] std::string unhealthy_reason() const;
  /// Waits until everything appended before the call is committed or has failed once.
  void flush();
  /// Writes what is queued, signs a final checkpoint and stops the writer. Idempotent.
  void close();

  [[nodiscard]] std::uint64_t committed_seq() const noexcept { return committed_seq_.load(); }
  [[nodiscard]] std::uint64_t dropped_events() const noexcept { return dropped_.load(); }
  [[nodiscard]] std::string describe() const { return store_->describe(); }

 private:
  struct pending {
    std::unique_ptr<pending_event> source;  ///< kept until its records are committed
    std::uint64_t ticket = 0;
    std::size_t origin = 0;  ///< the appending thread's spent_ list
  };

  /// The event's ticket (0: dropped).
  std::uint64_t enqueue(std::unique_ptr<pending_event> e, bool urgent);
  /// Writer: lets ordinary events gather for commit_delay unless someone waits for a commit.
  void gather(std::unique_lock<std::mutex>& lock);
  void run_writer();
  /// Encodes the batch's events as records after the chain head (grouping.hpp says which become one
  /// record); `prev` ends as the last record's hash.
  std::vector<stored_record> encode_batch(const std::vector<pending>& batch, std::string& prev);
  /// Hands the committed batch's facts back to the threads that appended them (see spent_).
  void return_spent(std::vector<pending>& batch);
  bool write_batch(std::vector<pending>& batch, bool sync);
  /// Writer: when to wake with nothing queued (a checkpoint or a sync falls due).
  std::chrono::steady_clock::time_point idle_deadline() const;
  /// Writer: syncs what was committed unsynced once sync_interval has passed (or when `force`).
  void sync_if_due(bool force);
  void maybe_checkpoint(bool force);
  void set_health(bool healthy, const std::string& reason);
  void fail_batch(const std::vector<pending>& batch, const std::string& reason);
  void notify(log_notice notice, const std::string& message);

  std::unique_ptr<store> store_;
  log_options options_;
  health_listener listener_;

  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable committed_;
  std::vector<pending> queue_;
  /// Facts the writer has built records from, destroyed a few per append by the thread that appended them
  /// (one list per appending thread, threads beyond spent_lists sharing). Sessions allocate them; were the
  /// writer (or another session thread) to free them, glibc's per-thread caches of the sessions would never
  /// refill, every allocation there would take the allocator's slow path, and the memory and the reference
  /// counts the facts hold would move between cores.
  static constexpr std::size_t spent_lists = 16;
  static constexpr std::size_t spent_per_append = 4;
  std::array<std::vector<std::unique_ptr<pending_event>>, spent_lists> spent_;
  std::size_t spent_count_ = 0;
  std::uint64_t next_ticket_ = 0;
  std::uint64_t committed_ticket_ = 0;  ///< every ticket up to here is committed
  std::uint64_t failed_ticket_ = 0;     ///< every ticket up to here has failed at least once
  bool writer_idle_ = false;
  bool writer_gathering_ = false;
  bool urgent_ = false;  ///< a durable append or flush() waits on what is queued
  bool stopping_ = false;
  bool closed_ = false;
  std::string reason_;

  std::atomic<bool> healthy_{true};
  std::atomic<std::uint64_t> committed_seq_{0};
  std::atomic<std::uint64_t> dropped_{0};

  // Writer thread only.
  chain_head head_;
  std::uint64_t checkpointed_seq_ = 0;
  std::chrono::steady_clock::time_point last_checkpoint_;
  bool unsynced_ = false;                                 ///< a commit is not on stable storage yet
  std::chrono::steady_clock::time_point unsynced_since_;  ///< the first such commit
  std::thread writer_;
};

}  // namespace phigate::audit
