// RAII owners for Hyperscan's C handles.
#pragma once

#include <hs/hs.h>

#include <memory>

namespace phigate::masking {

struct hs_database_deleter {
  void operator()(hs_database_t* db) const noexcept { hs_free_database(db); }
};

struct hs_scratch_deleter {
  void operator()(hs_scratch_t* scratch) const noexcept { hs_free_scratch(scratch); }
};

struct hs_compile_error_deleter {
  void operator()(hs_compile_error_t* error) const noexcept { hs_free_compile_error(error); }
};

/// Owns a compiled database. Immutable once compiled; may be scanned from many threads at once, each with
/// its own scratch.
using hs_database_ptr = std::unique_ptr<hs_database_t, hs_database_deleter>;

/// Owns scratch space. One scratch serves one scan at a time: keep one per thread.
using hs_scratch_ptr = std::unique_ptr<hs_scratch_t, hs_scratch_deleter>;

/// Owns the error a failed compile returns.
using hs_compile_error_ptr = std::unique_ptr<hs_compile_error_t, hs_compile_error_deleter>;

}  // namespace phigate::masking
