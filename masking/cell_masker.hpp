// Masks one value: scan it with the compiled detectors, replace every detection with the transform its
// entity type is configured for, and say what changed. Pure: no I/O; the scan_context is the caller's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "masking/detector_set.hpp"
#include "masking/transforms.hpp"

namespace phigate::masking {

/// Where the value sits, which changes what some transforms may write.
struct mask_options {
  /// True for a whole cell, where the null transform can make the cell SQL NULL. False inside running
  /// text (a COPY line, an error message), where null is written as redact.
  bool cell_may_be_null = true;
  /// True for date and timestamp columns: safe_harbor_date writes "YYYY-01-01" so the value stays a date.
  bool iso_date = false;
};

/// What mask() did to one value.
struct mask_result {
  bool changed = false;    ///< some detection was replaced
  bool null_cell = false;  ///< a null rule applied to a whole cell: send SQL NULL instead of `text`
  std::string text;        ///< the masked value (only when changed and not null_cell)
  std::map<std::string, std::size_t> counts;  ///< detections per label ("SSN", a custom detector's name)
  std::uint32_t transforms_used = 0;          ///< bit (1 << transform_kind) for each transform applied

  /// True when something changed and every transform applied was `kind`.
  bool used_only(transform_kind kind) const {
    return changed && transforms_used == (1u << static_cast<unsigned>(kind));
  }
};

/// Applies masking_rules to the detections of a detector_set. Immutable; share it across threads (each
/// thread passes its own scan_context).
class cell_masker {
 public:
  cell_masker(std::shared_ptr<const detector_set> detectors, std::shared_ptr<const masking_rules> rules);

  /// Scans `text` (with `column_hint`, the column name, standing in for context) and masks what it finds.
  mask_result mask(std::string_view text, std::string_view column_hint, scan_context& context,
                   const mask_options& options = {}) const;

  /// Masks `text` given its detections (from detector_set::scan or scan_batch with this masker's
  /// detectors): mask() without the scan.
  mask_result apply(std::string_view text, std::span<const detection> found,
                    const mask_options& options = {}) const;

  /// Masks all of `text` as one value with `kind` (a column rule): every value of the column is masked
  /// whatever it holds. Counted under `label`.
  mask_result mask_whole(std::string_view text, transform_kind kind, std::string_view label,
                         const mask_options& options = {}) const;

  const detector_set& detectors() const { return *detectors_; }
  const masking_rules& rules() const { return *rules_; }

 private:
  std::string replace(std::string_view label, std::string_view span, const mask_options& options,
                      transform_kind& applied) const;

  std::shared_ptr<const detector_set> detectors_;
  std::shared_ptr<const masking_rules> rules_;
};

}  // namespace phigate::masking
