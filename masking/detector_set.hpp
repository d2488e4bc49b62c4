// The compiled PHI detector catalogue.
//
// Scanning one cell (block mode) happens in two stages:
//  1. Which expressions may match: precompiled DFA tables over every stage-1 expression (see
//     trigger_dfa.hpp; the bare digit-run shapes share triggers by run length, the month-name dates one
//     trigger), plus a Hyperscan database (HS_FLAG_SINGLEMATCH) for any expression the DFA cannot read. A
//     clean cell pays for this and nothing else; in a batch, four cells walk the tables side by side.
//  2. Only for the expressions stage 1 reported, and only when the cheap screen passes (a context word in the
//     cell or a column hint for context-bound expressions), the spans: from the expression's span_dfa on
//     cells up to span_dfa_max_text bytes, else (and for expressions a DFA cannot hold exactly) from its own
//     Hyperscan database compiled with HS_FLAG_SOM_LEFTMOST (the same spans, see span_dfa.hpp); then edges,
//     validators (Luhn, NPI, DEA, MBI, IBAN, ABA, SSN rules, calendar), context words near the span and
//     column hints decide what is reported.
// Overlapping detections are merged so every byte any detector claimed stays covered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "masking/detector_config.hpp"
#include "masking/entity_type.hpp"
#include "masking/hyperscan_handles.hpp"
#include "masking/match_checks.hpp"
#include "masking/pattern_spec.hpp"
#include "masking/span_dfa.hpp"
#include "masking/text_normalizer.hpp"
#include "masking/trigger_dfa.hpp"

namespace phigate::masking {

/// One identifier found in a cell: byte offsets into the original (not normalized) text, end exclusive.
struct detection {
  entity_type type = entity_type::unclassified;
  std::size_t start = 0;
  std::size_t end = 0;
  std::uint32_t custom_index = 0;  ///< index into detector_config::custom when type is custom
  friend bool operator==(const detection&, const detection&) = default;
};

/// Per-thread state for scanning: the Hyperscan scratch and reusable buffers.
///
/// Threading: a scan_context serves one scan at a time. Keep one per worker thread (or per session, since a
/// session stays on its thread) and pass it to every scan on that thread. The scratch is grown lazily the
/// first time the context meets a detector_set, so one context can serve the old and the new set across a
/// reload. Not copyable; movable.
class scan_context {
 public:
  /// A detection before overlaps are settled.
  struct candidate {
    detection found;
    int priority;
  };

  scan_context() = default;
  scan_context(scan_context&&) noexcept = default;
  scan_context& operator=(scan_context&&) noexcept = default;

 private:
  friend class detector_set;
  struct raw_match {
    std::uint32_t id;
    std::size_t from;
    std::size_t to;
  };
  hs_scratch_ptr scratch_;
  std::vector<std::uint64_t> sized_for_;  // detector_set generations the scratch fits
  std::vector<raw_match> raw_;
  std::vector<candidate> candidates_;
  std::vector<text_span> addresses_;
  std::vector<std::uint32_t> hits_;      // stage-1 expressions reported in this cell
  std::vector<std::uint64_t> screened_;  // a batch's stage-1 bits, one word per cell
  std::uint32_t current_id_ = 0;         // expression stage 2 is locating
  std::size_t match_budget_ = 0;
  bool overflow_ = false;
  text_normalizer normalizer_;
  // The words of the columns met lately: a row of N columns scans N hints in turn, and reading a column
  // name costs more than scanning a short cell. Cleared when it holds max_cached_columns.
  static constexpr std::size_t max_cached_columns = 64;
  std::vector<std::pair<std::string, column_words>> columns_;
  token_starts cell_starts_;  // first_letters of the cell being scanned, once cell_starts_ready_
  bool cell_starts_ready_ = false;
  const column_words& words_for(std::string_view column);
};

/// An immutable compiled detector set. Share it as std::shared_ptr<const detector_set>; a reload compiles a
/// new one and swaps the pointer atomically while scans on the old one finish.
class detector_set {
 public:
  struct compile_result {
    std::shared_ptr<const detector_set> set;  ///< null on error
    std::string error;                        ///< names the failing detector and Hyperscan's message
  };

  /// Compiles the enabled built-in detectors and the custom ones. Configuration errors (bad expression,
  /// unknown validator, empty name) come back in `error`.
  static compile_result compile(const detector_config& config);

  /// Finds identifiers in one cell. `column_hint` is the column name (may be empty); it stands in for
  /// context ("a bare nine-digit number in a column called ssn is an SSN"). Detections are sorted by start
  /// and do not overlap. Never throws on any input; when one cell produces more raw matches than
  /// max_matches_per_cell the result is a single entity_type::unclassified detection over the whole cell.
  std::vector<detection> scan(std::string_view text, std::string_view column_hint,
                              scan_context& context) const;

  /// The detections of a batch of cells, back to back: cell i owns detections[cell_end[i-1] .. cell_end[i]).
  struct batch_result {
    std::vector<detection> detections;
    std::vector<std::size_t> cell_end;
    std::span<const detection> of(std::size_t cell) const {
      std::size_t from = cell == 0 ? 0 : cell_end[cell - 1];
      return std::span<const detection>(detections).subspan(from, cell_end[cell] - from);
    }
  };

  /// scan() for many cells at once (the cells of one row, or a block of rows), without a vector per cell.
  /// `column_hints` holds one hint per cell, or a single hint for all of them. Cell i's detections are
  /// exactly what scan(cells[i], hint) returns. `out` is cleared first; reuse it to keep its capacity.
  /// Stage 1 walks four cells side by side, and a cell it clears costs nothing more: batches are the fast
  /// way to scan many short values.
  void scan_batch(std::span<const std::string_view> cells, std::span<const std::string_view> column_hints,
                  scan_context& context, batch_result& out) const;

  /// scan_batch() with each cell's column already read (`columns[i]` for cell i, or columns[0] for all):
  /// for callers that scan many rows of the same columns.
  void scan_batch(std::span<const std::string_view> cells, std::span<const column_words* const> columns,
                  scan_context& context, batch_result& out) const;

  /// The label to report for a detection: the type name, or the custom detector's name.
  std::string_view label(const detection& d) const;

  /// How many expressions the database holds.
  std::size_t expression_count() const { return specs_.size(); }

  detector_set(const detector_set&) = delete;
  detector_set& operator=(const detector_set&) = delete;

 private:
  detector_set() = default;
  void prepare(scan_context& context) const;
  void scan_into(std::string_view text, const column_words& column, scan_context& context,
                 std::vector<detection>& out, std::optional<std::uint64_t> screened) const;
  template <typename ColumnOf>
  void scan_cells(std::span<const std::string_view> cells, ColumnOf&& column_of, scan_context& context,
                  batch_result& out) const;
  void settle_overlaps(std::vector<scan_context::candidate>& found, std::vector<detection>& out,
                       std::size_t base) const;
  bool first_stage(std::string_view text, scan_context& context, std::optional<std::uint64_t> screened) const;
  bool run_hyperscan(std::string_view text, const column_words& column, scan_context& context,
                     std::optional<std::uint64_t> screened) const;
  bool worth_locating(const pattern_spec& spec, std::string_view text, const column_words& column,
                      scan_context& context) const;
  std::string compile_databases();
  std::string compile_span_databases();
  std::string compile_screen(const std::vector<const char*>& expressions, const std::vector<unsigned>& flags);
  std::string describe(std::size_t spec_index) const;
  void second_stage(std::string_view text, const column_words& column, scan_context& context,
                    std::vector<scan_context::candidate>& out) const;
  bool accept(const pattern_spec& spec, std::string_view text, text_span span, const column_words& column,
              const std::vector<text_span>& addresses) const;
  void cell_level(std::string_view text, const column_words& column,
                  std::vector<scan_context::candidate>& out) const;

  std::vector<pattern_spec> specs_;
  std::vector<std::string> custom_names_;
  hs_database_ptr prefilter_;                    // stage 1: all expressions, no start offsets
  trigger_dfa screen_;                           // stage 1 for the expressions it covers
  hs_database_ptr residual_;                     // stage 1 for the others (null when the DFA covers all)
  std::vector<hs_database_ptr> span_databases_;  // stage 2: one per expression, leftmost start offsets
  std::vector<std::optional<span_dfa>>
      span_finders_;  // the same from DFAs, for short cells (none: Hyperscan)
  std::vector<std::vector<std::uint32_t>> trigger_specs_;  // stage-1 expression id -> specs it stands for
  std::uint64_t generation_ = 0;
  std::size_t context_window_bytes_ = 40;
  std::size_t max_matches_per_cell_ = 4096;
  bool person_enabled_ = true;
  bool address_enabled_ = true;
};

}  // namespace phigate::masking
