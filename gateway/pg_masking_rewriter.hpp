// The content-scan rewrite step for PostgreSQL: every value the server sends that can carry PHI (DataRow
// cells, COPY TO STDOUT data, ErrorResponse / NoticeResponse fields, NOTIFY payloads) is scanned by the
// detector set and masked by the configured transforms before it reaches the client.
//
// A masked value stays valid for its column type and format:
//  - text-like columns (text, varchar, bpchar, name, json, jsonb, unknown; text or binary format, which
//    carry the same bytes) get each detection replaced in place; a json or jsonb value that would stop
//    being JSON (an identifier written as a bare JSON number) becomes NULL instead;
//  - integer columns (int2, int4, int8, oid; text or binary) are scanned as their decimal rendering; the
//    masked rendering is sent when it is still an integer that fits the column (pseudonym of digits is
//    digits), re-encoded at the same width for binary; otherwise the cell becomes SQL NULL;
//  - numeric and float columns in text format keep a masked value only when it has the original's shape
//    (digits for digits, everything else unchanged); date and timestamp columns in text format only when
//    safe_harbor_date was the one transform applied ("1958-08-28" → "1958-01-01"); otherwise NULL;
//  - every other column in text format becomes NULL when anything is detected (fail closed);
//  - other binary-format columns (date, timestamp, numeric, uuid, bytea, arrays, enums, citext, ...) are
//    scanned as raw bytes and become NULL when anything is detected: their bytes are not text, but labels of
//    types with per-database OIDs (enum, citext) are, and fixed-width binary numbers practically never match.
// Column rules come first: a column whose table OID and attribute number (or, until the catalog is read,
// whose name) a rule names, and an output the statement's lineage ties to a masked column, is masked whole by
// the rule's transform whatever it holds, with the same type checks. Every other value is content-scanned.
// COPY text and CSV lines are split into fields when the statement names its columns (each field masked by
// its rule or scanned with its column name as hint); otherwise scanned whole. Masking happens in place
// (transforms never write delimiters, quotes, backslashes or line breaks); binary COPY fields with a rule or
// a detection become NULL. Anything that cannot be decoded is replaced, never forwarded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gateway/column_catalog.hpp"
#include "gateway/config.hpp"
#include "gateway/seams.hpp"
#include "masking/cell_masker.hpp"

namespace phigate {

class pg_masking_rewriter final : public row_rewriter {
 public:
  /// `config` holds the column rules (may be null: content scan only); `catalog` (may be null) resolves them
  /// by OID in `database`.
  pg_masking_rewriter(std::shared_ptr<const masking::cell_masker> masker,
                      std::shared_ptr<const masking_config> config = nullptr,
                      std::shared_ptr<column_catalog> catalog = nullptr, std::string database = {});

  void use_plan(std::shared_ptr<const lineage_plan> plan) override { plan_ = std::move(plan); }

  void on_row_description(const pg::row_description& shape) override;
  bool rewrite_data_row(const pg::frame& row, std::string& out) override;
  void on_copy_out(const pg::copy_response& shape) override;
  bool rewrite_copy_data(const pg::frame& data, std::string& out) override;
  bool rewrite_message(const pg::frame& message, std::string& out) override;

  /// Masked values per detector label since the session began: a cell (or COPY field, line, message field)
  /// counts once per label found in it. "UNREADABLE_ROW" counts DataRows that could not be decoded and were
  /// sent as rows of NULLs.
  const std::map<std::string, std::uint64_t>& masked_counts() const override { return masked_counts_; }

 private:
  struct column {
    std::string name;
    std::uint32_t type_oid = 0;
    std::int16_t format = 0;
    const masking::column_rule* rule = nullptr;  ///< masked whole by this rule
    bool derived = false;                        ///< computed from the rule's column, not the column itself
    masking::column_words words{};               ///< the name read as a hint, once per result
  };
  /// A cell after masking: unchanged, replaced by `bytes`, or SQL NULL.
  struct cell_outcome {
    enum class kind { unchanged, replaced, null } what = kind::unchanged;
    std::string bytes;
  };

  /// The rule a result column falls under, and whether it is computed from the rule's column.
  std::pair<const masking::column_rule*, bool> rule_for(const pg::field_description& field,
                                                        const column_index* index);
  std::pair<const masking::column_rule*, bool> rule_named(std::string_view output) const;
  cell_outcome mask_cell(const column& col, std::string_view bytes);
  /// Scans, in one batch, the cells of `row` that are content-scanned as text; scanned_[i] then says whether
  /// cell i is among them and batch_.of(k) holds the k-th one's detections.
  void scan_row(const pg::data_row& row);
  const column& column_at(std::size_t i) const;
  static masking::mask_options text_options(const column& col);
  cell_outcome mask_scanned(const column& col, std::string_view text,
                            std::span<const masking::detection> found);
  cell_outcome mask_text_format(const column& col, std::string_view text);
  cell_outcome mask_binary_integer(const column& col, std::string_view bytes);
  /// `result` (of masking `original`) as a value the column's type still accepts, or NULL.
  cell_outcome fit_to_type(const column& col, std::string_view original, masking::mask_result result);
  /// Masks `text` with the column's rule when it has one, else scans it with the column name as hint.
  masking::mask_result mask_value(const column& col, std::string_view text,
                                  const masking::mask_options& options);
  static masking::transform_kind rule_transform(const column& col);
  void start_copy_fields();
  bool rewrite_text_copy(std::string_view line, std::string& out);
  masking::mask_result scan(std::string_view text, std::string_view hint,
                            const masking::mask_options& options);
  bool rewrite_binary_copy(std::string_view data, std::string& out);
  void count(const masking::mask_result& result);

  std::shared_ptr<const masking::cell_masker> masker_;
  std::shared_ptr<const masking_config> config_;
  std::shared_ptr<column_catalog> catalog_;
  std::string database_;
  std::shared_ptr<const lineage_plan> plan_;
  std::vector<column> columns_;
  std::vector<column> copy_fields_;  ///< named fields of the current COPY (empty: lines scanned whole)
  bool copy_first_line_ = true;
  bool copy_binary_ = false;
  bool copy_header_seen_ = false;
  std::map<std::string, std::uint64_t> masked_counts_;
  // scan_row's buffers, kept for their capacity.
  std::vector<std::string_view> batch_cells_;
  std::vector<const masking::column_words*> batch_columns_;
  std::vector<bool> scanned_;
  masking::detector_set::batch_result batch_;
};

}  // namespace phigate
