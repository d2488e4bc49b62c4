#include "masking/detector_set.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <cstring>
#include <limits>
#include <optional>

namespace phigate::masking {
namespace {

std::atomic<std::uint64_t> next_generation{1};

// States per stage-1 table: the built-in catalogue fits, exact, in two tables (about 42,000 states, 8 MB per
// compiled set, of which a scan touches little). Smaller tables mean more of them, and every cell walks all.
constexpr std::size_t screen_max_states = 32768;

// A span_dfa per expression when each of its tables fits in this many states; it is used on cells up to
// span_dfa_max_text bytes (the walk back from each match end makes longer texts Hyperscan's job).
constexpr std::size_t span_dfa_max_states = 4096;
constexpr std::size_t span_dfa_max_text = 512;

std::string lower_copy(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool overlaps(const detection& a, const detection& b) {
  return a.start < b.end && b.start < a.end;
}

std::optional<pattern_spec> custom_spec(const custom_detector_config& c, std::uint32_t index,
                                        std::string& error) {
  if (c.name.empty() || c.pattern.empty()) {
    error = "custom detector #" + std::to_string(index) + " needs a name and a pattern";
    return std::nullopt;
  }
  std::optional<validator_kind> validator = parse_validator(c.validator);
  if (!validator) {
    error = "custom detector " + c.name + ": unknown validator \"" + c.validator + "\"";
    return std::nullopt;
  }
  pattern_spec s;
  s.type = entity_type::custom;
  s.custom_index = index;
  s.expression = c.pattern;
  s.caseless = c.case_insensitive;
  s.validator = *validator;
  s.priority = 4;
  for (const std::string& w : c.context_words) s.context_words.push_back(lower_copy(w));
  for (const std::string& h : c.column_hints) s.column_hints.push_back(lower_copy(h));
  if (!s.context_words.empty() || !s.column_hints.empty()) s.context = context_rule::required;
  return s;
}

}  // namespace

detector_set::compile_result detector_set::compile(const detector_config& config) {
  std::shared_ptr<detector_set> set(new detector_set());
  set->specs_ = builtin_pattern_specs(config);
  for (std::uint32_t i = 0; i < config.custom.size(); ++i) {
    std::string error;
    std::optional<pattern_spec> spec = custom_spec(config.custom[i], i, error);
    if (!spec) return {nullptr, error};
    set->specs_.push_back(std::move(*spec));
    set->custom_names_.push_back(config.custom[i].name);
  }
  auto enabled = [&](entity_type t) {
    return std::find(config.disabled.begin(), config.disabled.end(), t) == config.disabled.end();
  };
  set->person_enabled_ = enabled(entity_type::person);
  set->address_enabled_ = enabled(entity_type::address);
  set->context_window_bytes_ = config.context_window_bytes;
  set->max_matches_per_cell_ = std::max<std::size_t>(config.max_matches_per_cell, 1);
  set->generation_ = next_generation.fetch_add(1);
  if (set->specs_.empty()) return {std::move(set), {}};

  std::string error = set->compile_databases();
  if (!error.empty()) return {nullptr, error};
  return {std::move(set), {}};
}

std::string detector_set::describe(std::size_t index) const {
  const pattern_spec& bad = specs_[index];
  std::string who =
      bad.type == entity_type::custom ? custom_names_[bad.custom_index] : std::string(to_string(bad.type));
  return who + " expression \"" + bad.expression + "\"";
}

std::string detector_set::compile_databases() {
  // Stage 1: every expression in one database, no start offsets, one report per expression at most. This is
  // the only scan a clean cell pays for.
  std::vector<const char*> expressions;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  std::vector<std::size_t> first_spec;  // stage-1 expression -> the spec it came from (for error messages)
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const pattern_spec& s = specs_[i];
    // Specs with a shared trigger join the stage-1 expression of the first spec with that trigger.
    auto same_trigger = [&](std::size_t group) {
      return !s.trigger.empty() && specs_[first_spec[group]].trigger == s.trigger;
    };
    std::size_t group = 0;
    while (group < first_spec.size() && !same_trigger(group)) ++group;
    if (group == first_spec.size()) {
      expressions.push_back(s.trigger.empty() ? s.expression.c_str() : s.trigger.c_str());
      flags.push_back(HS_FLAG_SINGLEMATCH | (s.caseless ? HS_FLAG_CASELESS : 0u));
      ids.push_back(static_cast<unsigned>(group));
      first_spec.push_back(i);
      trigger_specs_.emplace_back();
    }
    trigger_specs_[group].push_back(static_cast<std::uint32_t>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* raw_error = nullptr;
  hs_error_t rc =
      hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(expressions.size()), HS_MODE_BLOCK, nullptr, &db, &raw_error);
  hs_compile_error_ptr error(raw_error);
  if (rc != HS_SUCCESS) {
    std::string where = "detector expression";
    if (error && error->expression >= 0 && static_cast<std::size_t>(error->expression) < first_spec.size()) {
      where = describe(first_spec[static_cast<std::size_t>(error->expression)]);
    }
    return where + ": " + (error ? error->message : "hyperscan compile failed");
  }
  prefilter_.reset(db);
  std::string span_error = compile_span_databases();
  if (!span_error.empty()) return span_error;
  return compile_screen(expressions, flags);
}

std::string detector_set::compile_screen(const std::vector<const char*>& expressions,
                                         const std::vector<unsigned>& flags) {
  std::vector<trigger_source> sources;
  for (std::size_t i = 0; i < expressions.size(); ++i)
    sources.push_back({expressions[i], (flags[i] & HS_FLAG_CASELESS) != 0});
  screen_ = trigger_dfa::build(sources, screen_max_states);
  std::vector<const char*> rest;
  std::vector<unsigned> rest_flags, rest_ids;
  for (std::size_t i = 0; i < expressions.size(); ++i) {
    if (screen_.covers(i)) continue;
    rest.push_back(expressions[i]);
    rest_flags.push_back(flags[i]);
    rest_ids.push_back(static_cast<unsigned>(i));
  }
  if (rest.empty()) return {};
  hs_database_t* db = nullptr;
  hs_compile_error_t* raw_error = nullptr;
  hs_error_t rc =
      hs_compile_multi(rest.data(), rest_flags.data(), rest_ids.data(), static_cast<unsigned>(rest.size()),
                       HS_MODE_BLOCK, nullptr, &db, &raw_error);
  hs_compile_error_ptr error(raw_error);
  if (rc != HS_SUCCESS)
    return "detector expressions: " + std::string(error ? error->message : "compile failed");
  residual_.reset(db);
  return {};
}

std::string detector_set::compile_span_databases() {
  // Stage 2: one small database per expression with leftmost start offsets, scanned only for the
  // expressions stage 1 reported in this cell.
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    unsigned flags = HS_FLAG_SOM_LEFTMOST | (specs_[i].caseless ? HS_FLAG_CASELESS : 0u);
    hs_database_t* one = nullptr;
    hs_compile_error_t* raw_error = nullptr;
    hs_error_t rc = hs_compile(specs_[i].expression.c_str(), flags, HS_MODE_BLOCK, nullptr, &one, &raw_error);
    hs_compile_error_ptr error(raw_error);
    if (rc != HS_SUCCESS) {
      return describe(i) + " (with start offsets): " + (error ? error->message : "hyperscan compile failed");
    }
    span_databases_.emplace_back(one);
    span_finders_.push_back(span_dfa::build(specs_[i].expression, specs_[i].caseless, span_dfa_max_states));
  }
  return {};
}

std::string_view detector_set::label(const detection& d) const {
  if (d.type == entity_type::custom && d.custom_index < custom_names_.size())
    return custom_names_[d.custom_index];
  return to_string(d.type);
}

void detector_set::prepare(scan_context& context) const {
  auto& sized = context.sized_for_;
  if (std::find(sized.begin(), sized.end(), generation_) != sized.end()) return;
  // hs_alloc_scratch only ever grows a scratch, so it keeps fitting every database it was sized for before.
  hs_scratch_t* scratch = context.scratch_.release();
  hs_error_t rc = hs_alloc_scratch(prefilter_.get(), &scratch);
  if (rc == HS_SUCCESS && residual_) rc = hs_alloc_scratch(residual_.get(), &scratch);
  for (std::size_t i = 0; rc == HS_SUCCESS && i < span_databases_.size(); ++i) {
    rc = hs_alloc_scratch(span_databases_[i].get(), &scratch);
  }
  context.scratch_.reset(scratch);
  if (rc != HS_SUCCESS) return;
  if (sized.size() >= 8) sized.erase(sized.begin());
  sized.push_back(generation_);
}

bool detector_set::worth_locating(const pattern_spec& spec, std::string_view text, const column_words& column,
                                  scan_context& context) const {
  const auto in_cell = [&](const std::vector<std::string>& words) {
    if (words.empty()) return false;
    if (!context.cell_starts_ready_) {
      context.cell_starts_ = first_letters(text);
      context.cell_starts_ready_ = true;
    }
    return context_word_in(text, words, context.cell_starts_);
  };
  // Context-bound expressions (bare nine-digit numbers and the like) match most digit runs; without a
  // context word anywhere in the cell or a column hint they cannot produce a detection, so stage 2 is
  // skipped.
  switch (spec.context) {
    case context_rule::none:
      return true;
    case context_rule::not_other_id_column:
      if (!column.names_other_identifier()) return true;
      [[fallthrough]];
    case context_rule::required:
      return column.has_any(spec.column_hints) || in_cell(spec.context_words);
    case context_rule::zip5:
      return column.has_any(spec.column_hints) || in_cell(spec.context_words) || may_hold_address(text);
  }
  return true;
}

bool detector_set::first_stage(std::string_view text, scan_context& context,
                               std::optional<std::uint64_t> screened) const {
  // A bit from the DFA may be a false alarm; stage 2 then finds nothing for that expression.
  for (std::uint64_t maybe = screened ? *screened : screen_.scan(text); maybe != 0; maybe &= maybe - 1)
    context.hits_.push_back(static_cast<std::uint32_t>(std::countr_zero(maybe)));
  if (!residual_) return true;
  auto on_hit = [](unsigned id, unsigned long long, unsigned long long, unsigned, void* user) -> int {
    static_cast<scan_context*>(user)->hits_.push_back(id);
    return 0;
  };
  return hs_scan(residual_.get(), text.data(), static_cast<unsigned>(text.size()), 0, context.scratch_.get(),
                 on_hit, &context) == HS_SUCCESS;
}

bool detector_set::run_hyperscan(std::string_view text, const column_words& column, scan_context& context,
                                 std::optional<std::uint64_t> screened) const {
  context.raw_.clear();
  context.hits_.clear();
  context.overflow_ = false;
  context.cell_starts_ready_ = false;
  context.match_budget_ = max_matches_per_cell_;
  if (!prefilter_ || text.empty()) return true;
  if (text.size() > std::numeric_limits<unsigned>::max()) return false;  // hs_scan takes a 32-bit length
  prepare(context);
  if (std::find(context.sized_for_.begin(), context.sized_for_.end(), generation_) ==
      context.sized_for_.end()) {
    return false;
  }
  if (!first_stage(text, context, screened)) return false;
  hs_error_t rc = HS_SUCCESS;
  const auto length = static_cast<unsigned>(text.size());
  auto on_match = [](unsigned, unsigned long long from, unsigned long long to, unsigned, void* user) -> int {
    auto* ctx = static_cast<scan_context*>(user);
    if (ctx->raw_.size() >= ctx->match_budget_) {
      ctx->overflow_ = true;
      return 1;  // stop scanning
    }
    ctx->raw_.push_back({ctx->current_id_, static_cast<std::size_t>(from), static_cast<std::size_t>(to)});
    return 0;
  };
  for (std::uint32_t trigger : context.hits_) {
    for (std::uint32_t id : trigger_specs_[trigger]) {
      if (!worth_locating(specs_[id], text, column, context)) continue;
      context.current_id_ = id;
      if (span_finders_[id] && text.size() <= span_dfa_max_text) {
        span_finders_[id]->find(
            text, [&](std::size_t from, std::size_t to) { return on_match(id, from, to, 0, &context) == 0; });
        if (context.overflow_) return false;
        continue;
      }
      rc = hs_scan(span_databases_[id].get(), text.data(), length, 0, context.scratch_.get(), on_match,
                   &context);
      if ((rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) || context.overflow_) return false;
    }
  }
  return true;
}

bool detector_set::accept(const pattern_spec& spec, std::string_view text, text_span span,
                          const column_words& column, const std::vector<text_span>& addresses) const {
  if (spec.type == entity_type::date) {
    if (!date_time_edges_ok(text, span)) return false;
  } else if (spec.span != span_rule::free_edges && !token_edges_ok(text, span)) {
    return false;
  }
  if (!run_validator(spec.validator, text.substr(span.start, span.end - span.start))) return false;
  if (spec.span == span_rule::bare_name) {
    // A typed column holding just two capitalised words ("Blue Widget") is a product, a city, an insurer:
    // whole-cell names are left to the column hint (cell_level).
    text_span whole = trimmed(text);
    if ((span.start == whole.start && span.end == whole.end) || !plausible_bare_name(text, span))
      return false;
  }
  switch (spec.context) {
    case context_rule::none:
      return true;
    case context_rule::not_other_id_column:
      if (!column.names_other_identifier()) return true;
      [[fallthrough]];
    case context_rule::required:
      return column.has_any(spec.column_hints) ||
             context_word_near(text, span, spec.context_words, context_window_bytes_);
    case context_rule::zip5:
      return column.has_any(spec.column_hints) ||
             context_word_near(text, span, spec.context_words, context_window_bytes_) ||
             zip5_follows_address(text, span, addresses);
  }
  return false;
}

void detector_set::second_stage(std::string_view text, const column_words& column, scan_context& context,
                                std::vector<scan_context::candidate>& out) const {
  auto& raw = context.raw_;
  std::sort(raw.begin(), raw.end(), [](const auto& a, const auto& b) {
    if (a.id != b.id) return a.id < b.id;
    if (a.from != b.from) return a.from < b.from;
    return a.to > b.to;
  });
  std::vector<text_span>& addresses = context.addresses_;
  addresses.clear();
  // Pass 0 settles everything but five-digit ZIPs, which look for the addresses pass 0 found.
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < raw.size();) {
      std::size_t group_end = i;
      while (group_end < raw.size() && raw[group_end].id == raw[i].id && raw[group_end].from == raw[i].from)
        ++group_end;
      const pattern_spec& spec = specs_[raw[i].id];
      bool in_pass = (spec.context == context_rule::zip5) == (pass == 1);
      for (std::size_t k = i; in_pass && k < group_end; ++k) {
        std::optional<text_span> span = apply_span_rule(spec.span, text, {raw[k].from, raw[k].to});
        if (!span || !accept(spec, text, *span, column, addresses)) continue;
        out.push_back({{spec.type, span->start, span->end, spec.custom_index}, spec.priority});
        if (spec.type == entity_type::address) addresses.push_back(*span);
        break;  // the longest acceptable end for this start
      }
      i = group_end;
    }
  }
}

void detector_set::cell_level(std::string_view text, const column_words& column,
                              std::vector<scan_context::candidate>& out) const {
  if (!column.names_person() && !column.names_street()) return;
  text_span whole = trimmed(text);
  if (whole.end == whole.start) return;
  if (person_enabled_ && column.names_person() && looks_like_person_name(text)) {
    out.push_back({{entity_type::person, whole.start, whole.end, 0}, 1});
  }
  if (address_enabled_ && column.names_street() && looks_like_street_line(text)) {
    out.push_back({{entity_type::address, whole.start, whole.end, 0}, 1});
  }
}

namespace {

bool is_ascii(std::string_view text) {
  std::uint64_t any = 0;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, sizeof word);
    any |= word;
  }
  for (; i < text.size(); ++i) any |= static_cast<unsigned char>(text[i]);
  return (any & 0x8080808080808080ull) == 0;
}

}  // namespace

std::vector<detection> detector_set::scan(std::string_view text, std::string_view column_hint,
                                          scan_context& context) const {
  std::vector<detection> result;
  scan_into(text, context.words_for(column_hint), context, result, std::nullopt);
  return result;
}

template <typename ColumnOf>
void detector_set::scan_cells(std::span<const std::string_view> cells, ColumnOf&& column_of,
                              scan_context& context, batch_result& out) const {
  out.detections.clear();
  out.cell_end.clear();
  out.cell_end.reserve(cells.size());
  std::vector<std::uint64_t>& screened = context.screened_;
  screened.resize(cells.size());
  screen_.scan_many(cells, screened.data());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const column_words& column = column_of(i);
    // Normalizing changes the bytes stage 1 walked: such a cell walks its normalized text again.
    const bool ascii = is_ascii(cells[i]);
    // Nothing in stage 1 and no cell-level check for this column: the cell holds nothing to find.
    const bool clear =
        ascii && screened[i] == 0 && !residual_ && !column.names_person() && !column.names_street();
    if (!clear)
      scan_into(cells[i], column, context, out.detections, ascii ? std::optional(screened[i]) : std::nullopt);
    out.cell_end.push_back(out.detections.size());
  }
}

void detector_set::scan_batch(std::span<const std::string_view> cells,
                              std::span<const std::string_view> column_hints, scan_context& context,
                              batch_result& out) const {
  scan_cells(
      cells,
      [&](std::size_t i) -> const column_words& {
        return context.words_for(column_hints.empty() ? std::string_view()
                                                      : column_hints[std::min(i, column_hints.size() - 1)]);
      },
      context, out);
}

void detector_set::scan_batch(std::span<const std::string_view> cells,
                              std::span<const column_words* const> columns, scan_context& context,
                              batch_result& out) const {
  static const column_words none;
  scan_cells(
      cells,
      [&](std::size_t i) -> const column_words& {
        return columns.empty() ? none : *columns[std::min(i, columns.size() - 1)];
      },
      context, out);
}

const column_words& scan_context::words_for(std::string_view column) {
  for (const auto& [name, words] : columns_) {
    if (name == column) return words;
  }
  if (columns_.size() >= max_cached_columns) columns_.clear();
  columns_.emplace_back(std::string(column), column_words(column));
  return columns_.back().second;
}

void detector_set::scan_into(std::string_view text, const column_words& column, scan_context& context,
                             std::vector<detection>& out, std::optional<std::uint64_t> screened) const {
  const bool normalized = context.normalizer_.normalize(text);
  std::string_view work = normalized ? context.normalizer_.text() : text;
  if (!run_hyperscan(work, column, context, screened)) {
    out.push_back({entity_type::unclassified, 0, text.size(), 0});
    return;
  }
  std::vector<scan_context::candidate>& found = context.candidates_;
  found.clear();
  if (!context.raw_.empty()) second_stage(work, column, context, found);
  cell_level(work, column, found);
  if (found.empty()) return;
  const std::size_t base = out.size();
  settle_overlaps(found, out, base);
  if (normalized) {
    for (std::size_t i = base; i < out.size(); ++i) {
      out[i].start = context.normalizer_.original_start(out[i].start);
      out[i].end = context.normalizer_.original_end(out[i].end - 1);
    }
  }
}

void detector_set::settle_overlaps(std::vector<scan_context::candidate>& found, std::vector<detection>& out,
                                   std::size_t base) const {
  // Overlaps: the longer span wins (it covers the shorter), then the more specific detector.
  using candidate = scan_context::candidate;
  std::sort(found.begin(), found.end(), [](const candidate& a, const candidate& b) {
    std::size_t la = a.found.end - a.found.start, lb = b.found.end - b.found.start;
    if (la != lb) return la > lb;
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.found.start < b.found.start;
  });
  for (const candidate& c : found) {
    auto clash = std::find_if(out.begin() + static_cast<std::ptrdiff_t>(base), out.end(),
                              [&](const detection& d) { return overlaps(d, c.found); });
    if (clash == out.end()) {
      out.push_back(c.found);
      continue;
    }
    // A partial overlap still marks bytes to mask: the winner grows to cover them.
    clash->start = std::min(clash->start, c.found.start);
    clash->end = std::max(clash->end, c.found.end);
  }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(base), out.end(),
            [](const detection& a, const detection& b) { return a.start < b.start; });
  // Growing may have made neighbours overlap; fold them into the earlier one.
  std::size_t kept = base;
  for (std::size_t i = base; i < out.size(); ++i) {
    if (kept > base && out[i].start < out[kept - 1].end) {
      out[kept - 1].end = std::max(out[kept - 1].end, out[i].end);
    } else {
      out[kept++] = out[i];
    }
  }
  out.resize(kept);
}

}  // namespace phigate::masking
