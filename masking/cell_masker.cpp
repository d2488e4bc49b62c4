#include "masking/cell_masker.hpp"

namespace phigate::masking {

cell_masker::cell_masker(std::shared_ptr<const detector_set> detectors,
                         std::shared_ptr<const masking_rules> rules)
    : detectors_(std::move(detectors)), rules_(std::move(rules)) {}

mask_result cell_masker::mask(std::string_view text, std::string_view column_hint, scan_context& context,
                              const mask_options& options) const {
  return apply(text, detectors_->scan(text, column_hint, context), options);
}

mask_result cell_masker::apply(std::string_view text, std::span<const detection> found,
                               const mask_options& options) const {
  mask_result result;
  if (found.empty()) return result;
  result.changed = true;
  std::size_t copied = 0;
  for (const detection& d : found) {
    ++result.counts[std::string(detectors_->label(d))];
    transform_kind applied = rules_->transform_for(d.type);
    if (applied == transform_kind::null && options.cell_may_be_null) {
      // One null rule empties the whole cell; the other detections are still counted.
      result.null_cell = true;
    }
    // Detections are sorted and do not overlap (detector_set's contract), so spans are copied in order.
    result.text.append(text.substr(copied, d.start - copied));
    result.text += replace(detectors_->label(d), text.substr(d.start, d.end - d.start), options, applied);
    result.transforms_used |= 1u << static_cast<unsigned>(applied);
    copied = d.end;
  }
  result.text.append(text.substr(copied));
  if (result.null_cell) result.text.clear();
  return result;
}

mask_result cell_masker::mask_whole(std::string_view text, transform_kind kind, std::string_view label,
                                    const mask_options& options) const {
  mask_result result;
  result.changed = true;
  result.counts[std::string(label)] = 1;
  result.text = replace(label, text, options, kind);
  result.transforms_used = 1u << static_cast<unsigned>(kind);
  result.null_cell = kind == transform_kind::null && options.cell_may_be_null;
  if (result.null_cell) result.text.clear();
  return result;
}

std::string cell_masker::replace(std::string_view label, std::string_view span, const mask_options& options,
                                 transform_kind& applied) const {
  const masking_rules& rules = *rules_;
  // A keyed transform without a key (config validation prevents it) and transforms that do not fit the
  // value all fall back to redact: never to the clear value.
  switch (applied) {
    case transform_kind::partial:
      return partial(span, rules.partial_keep);
    case transform_kind::pseudonym:
      if (rules.key) return pseudonym(span, *rules.key);
      break;
    case transform_kind::hash:
      if (rules.key) return keyed_hash(span, *rules.key, rules.hash_hex_chars);
      break;
    case transform_kind::safe_harbor_date:
      if (auto year = safe_harbor_year(span)) return options.iso_date ? *year + "-01-01" : *year;
      break;
    case transform_kind::zip3:
      if (auto zip = zip3(span)) return *zip;
      break;
    case transform_kind::redact:
    case transform_kind::null:
      break;
  }
  const bool whole_cell_null = applied == transform_kind::null && options.cell_may_be_null;
  applied = whole_cell_null ? transform_kind::null : transform_kind::redact;
  return redact(label);
}

}  // namespace phigate::masking
