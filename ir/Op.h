//===- ir/Op.h - Operations and regions --------------------------------------===//
//
// Operation → Region → Operation, as in MLIR, with one simplification: a
// region is a single block (control flow is structured, there are no gotos).
// A region's arguments are its block arguments; it ends with a terminator
// (`yield` in loop and if bodies, `return` in the program body).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cassert>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ir/Attribute.h"
#include "ir/Location.h"
#include "ir/OpKind.h"
#include "ir/Value.h"

namespace cocktail::ir {

class Op;

class Region {
 public:
  Region() = default;
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  Value* addArgument(Type type, std::string name = {});
  std::span<const std::unique_ptr<Value>> arguments() const { return args_; }
  Value* argument(size_t i) const { return args_.at(i).get(); }
  size_t numArguments() const { return args_.size(); }

  /// Appends an op (the region takes ownership) and returns it.
  Op* append(std::unique_ptr<Op> op);
  /// Inserts before position `pos`.
  Op* insert(size_t pos, std::unique_ptr<Op> op);
  /// Removes and returns the op at `pos`.
  std::unique_ptr<Op> take(size_t pos);
  /// Position of `op` among this region's ops; size() when it is not one.
  size_t indexOf(const Op* op) const;

  const std::vector<std::unique_ptr<Op>>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  Op* back() const { return ops_.empty() ? nullptr : ops_.back().get(); }
  /// The terminating op, or null if the region does not end with one.
  Op* terminator() const;

  /// The op this region belongs to (null for the program body).
  Op* parentOp() const { return parentOp_; }

 private:
  friend class Op;
  std::vector<std::unique_ptr<Value>> args_;
  std::vector<std::unique_ptr<Op>> ops_;
  Op* parentOp_ = nullptr;
};

class Op {
 public:
  Op(OpKind kind, std::vector<Value*> operands, std::vector<Type> resultTypes, Attributes attrs = {},
     Location loc = {});
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

  OpKind kind() const { return kind_; }
  std::string_view name() const { return mnemonic(kind_); }
  const OpInfo& info() const { return opInfo(kind_); }

  const std::vector<Value*>& operands() const { return operands_; }
  Value* operand(size_t i) const { return operands_.at(i); }
  size_t numOperands() const { return operands_.size(); }
  void setOperand(size_t i, Value* v) { operands_.at(i) = v; }
  void setOperands(std::vector<Value*> operands) { operands_ = std::move(operands); }

  std::span<const std::unique_ptr<Value>> results() const { return results_; }
  Value* result(size_t i = 0) const { return results_.at(i).get(); }
  size_t numResults() const { return results_.size(); }
  Value* addResult(Type type, std::string name = {});

  Attributes& attrs() { return attrs_; }
  const Attributes& attrs() const { return attrs_; }

  const Location& loc() const { return loc_; }
  void setLoc(Location loc) { loc_ = std::move(loc); }

  Region& addRegion();
  std::span<const std::unique_ptr<Region>> regions() const { return regions_; }
  Region& region(size_t i) const { return *regions_.at(i); }
  size_t numRegions() const { return regions_.size(); }

  /// The region this op is in.
  Region* parentRegion() const { return parent_; }

  /// Calls f on this op and every op nested in its regions, outer first.
  void walk(const std::function<void(Op&)>& f);

 private:
  friend class Region;
  OpKind kind_;
  std::vector<Value*> operands_;
  std::vector<std::unique_ptr<Value>> results_;
  Attributes attrs_;
  std::vector<std::unique_ptr<Region>> regions_;
  Location loc_;
  Region* parent_ = nullptr;
};

/// Calls f on every op of the region, recursively, in program order.
void walk(Region& region, const std::function<void(Op&)>& f);

/// Replaces every use of `from` by `to` inside `region` (recursively).
void replaceAllUsesIn(Region& region, Value* from, Value* to);

/// Whether `v` is defined inside one of `op`'s regions, at any depth (a
/// loop body's argument counts: it is redefined every iteration).
bool isDefinedInside(const Value* v, const Op* op);

/// The contraction (conv2d, linear) a `fused` op starts with, whose result
/// the rest of the body takes as its epilogue; null for a purely
/// elementwise fused op (or any other op).
const Op* fusedHead(const Op& op);

}  // namespace cocktail::ir
