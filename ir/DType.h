//===- ir/DType.h - Element types of tensors and scalars ------------------===//
//
// The element types the IR and the runtime agree on. Declared once as an
// X-macro so that names, sizes and the textual spelling cannot drift apart.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cocktail::ir {

// X(enumerator, textual name, size in bytes)
#define COCKTAIL_DTYPES(X) \
  X(F32, "f32", 4)         \
  X(F64, "f64", 8)         \
  X(F16, "f16", 2)         \
  X(BF16, "bf16", 2)       \
  X(I64, "i64", 8)         \
  X(I32, "i32", 4)         \
  X(I1, "i1", 1)           \
  X(U8, "u8", 1)

enum class DType : uint8_t {
#define COCKTAIL_DTYPE_ENUM(E, N, S) E,
  COCKTAIL_DTYPES(COCKTAIL_DTYPE_ENUM)
#undef COCKTAIL_DTYPE_ENUM
};

/// The textual spelling used by the printer, the parser and `--input` specs.
constexpr std::string_view dtypeName(DType t) {
  switch (t) {
#define COCKTAIL_DTYPE_NAME(E, N, S) \
  case DType::E:                     \
    return N;
    COCKTAIL_DTYPES(COCKTAIL_DTYPE_NAME)
#undef COCKTAIL_DTYPE_NAME
  }
  return "?";
}

/// Bytes per element.
constexpr int64_t dtypeSize(DType t) {
  switch (t) {
#define COCKTAIL_DTYPE_SIZE(E, N, S) \
  case DType::E:                     \
    return S;
    COCKTAIL_DTYPES(COCKTAIL_DTYPE_SIZE)  // NOLINT(bugprone-branch-clone): several dtypes share a size
#undef COCKTAIL_DTYPE_SIZE
  }
  return 0;
}

/// Every spelling, space-separated ("f32 f64 ..."): for help texts and errors.
constexpr std::string_view kDTypeNames =
#define COCKTAIL_DTYPE_LIST(E, N, S) N " "
    COCKTAIL_DTYPES(COCKTAIL_DTYPE_LIST)
#undef COCKTAIL_DTYPE_LIST
        "";

/// Inverse of dtypeName; nullopt for an unknown spelling.
constexpr std::optional<DType> parseDType(std::string_view name) {
#define COCKTAIL_DTYPE_PARSE(E, N, S) \
  if (name == N) return DType::E;
  COCKTAIL_DTYPES(COCKTAIL_DTYPE_PARSE)
#undef COCKTAIL_DTYPE_PARSE
  return std::nullopt;
}

constexpr bool isFloating(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::F16 || t == DType::BF16;
}

/// The integer types (not i1): what torch.result_type ranks below floats.
constexpr bool isInteger(DType t) { return t == DType::I64 || t == DType::I32 || t == DType::U8; }

/// torch.promote_types within the integers: the wider type wins (u8 with i32
/// is i32, anything with i64 is i64).
constexpr DType promoteIntegers(DType a, DType b) {
  if (a == DType::I64 || b == DType::I64) return DType::I64;
  if (a == DType::I32 || b == DType::I32) return DType::I32;
  return DType::U8;
}

}  // namespace cocktail::ir
