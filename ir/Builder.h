//===- ir/Builder.h - Creating ops at an insertion point ------------------------===//
//
// Keeps an insertion point (a region and a position) and the location new
// ops get, so that translation code reads as a sequence of `create` calls.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "ir/Op.h"

namespace cocktail::ir {

class Builder {
 public:
  explicit Builder(Region& region) : region_(&region), pos_(region.size()) {}

  /// Insert at the end of `region` from now on.
  void setInsertionPointToEnd(Region& region) {
    region_ = &region;
    pos_ = region.size();
  }
  Region& region() const { return *region_; }

  void setLoc(Location loc) { loc_ = std::move(loc); }
  const Location& loc() const { return loc_; }

  /// Creates an op at the insertion point and moves past it.
  Op* create(OpKind kind, std::vector<Value*> operands, std::vector<Type> resultTypes, Attributes attrs = {});
  /// Same, for an op with exactly one result; returns that result.
  Value* create1(OpKind kind, std::vector<Value*> operands, Type resultType, Attributes attrs = {});

  Value* constantInt(int64_t v);
  Value* constantFloat(double v);
  Value* constantBool(bool v);

  static constexpr int64_t kMaxTrip = std::numeric_limits<int64_t>::max();

 private:
  Region* region_;
  size_t pos_;
  Location loc_;
};

}  // namespace cocktail::ir
