//===- ir/Attribute.h - Compile-time constant parameters of ops ------------===//
//
// Attributes hold what must be known at compile time (a reduction's dims, a
// convolution's stride, a dtype). Parameters TorchScript may compute at run
// time (slice bounds, view sizes, loop trip counts) are operands instead.
// Attributes live in a sorted map so that printing is deterministic.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ir/DType.h"

namespace cocktail::ir {

using AttrValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>, DType>;

/// The kind of value an attribute must hold.
enum class AttrKind : uint8_t { Int, Number, Bool, String, Ints, DType, Literal };

/// Whether `v` is of kind `k`.
bool hasKind(const AttrValue& v, AttrKind k);
/// "an integer", "a string", ...: for diagnostics and docs.
std::string_view kindName(AttrKind k);

/// `1`, `2.5`, `true`, `"text"`, `[1, 2]`, `f32`: the textual form of one value.
std::string attrValueToString(const AttrValue& v);

class Attributes {
 public:
  void set(const std::string& name, AttrValue value) { map_[name] = std::move(value); }
  bool has(const std::string& name) const { return map_.count(name) != 0; }
  void erase(const std::string& name) { map_.erase(name); }
  bool empty() const { return map_.empty(); }
  /// The value itself, without a copy; null when absent.
  const AttrValue* find(const std::string& name) const {
    auto it = map_.find(name);
    return it == map_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, AttrValue>& all() const { return map_; }

  /// Typed accessors; nullopt when absent or of another kind.
  std::optional<int64_t> getInt(const std::string& name) const { return get<int64_t>(name); }
  std::optional<double> getFloat(const std::string& name) const;  // accepts ints too
  std::optional<bool> getBool(const std::string& name) const { return get<bool>(name); }
  std::optional<std::string> getString(const std::string& name) const { return get<std::string>(name); }
  std::optional<std::vector<int64_t>> getInts(const std::string& name) const { return get<std::vector<int64_t>>(name); }
  std::optional<DType> getDType(const std::string& name) const { return get<DType>(name); }

  bool operator==(const Attributes&) const = default;

 private:
  template <typename T>
  std::optional<T> get(const std::string& name) const {
    auto it = map_.find(name);
    if (it == map_.end()) return std::nullopt;
    if (const T* v = std::get_if<T>(&it->second)) return *v;
    return std::nullopt;
  }
  std::map<std::string, AttrValue> map_;
};

}  // namespace cocktail::ir
