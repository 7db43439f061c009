//===- ir/Value.h - SSA values ----------------------------------------------===//
//
// A value is defined exactly once: as the result of an op, or as an argument
// of a region (loop-carried values and the program's inputs are region
// arguments, as in MLIR). Values are owned by their definer and referred to
// by raw pointer; their `name` is a hint for the printer (TorchScript's debug
// names survive into the IR so that dumps read like the source).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

#include "ir/Type.h"

namespace cocktail::ir {

class Op;
class Region;

class Value {
 public:
  Value(Type type, std::string name) : type_(std::move(type)), name_(std::move(name)) {}
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;

  const Type& type() const { return type_; }
  void setType(Type t) { type_ = std::move(t); }
  const std::string& name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }

  /// The op whose result this is, or null for a region argument.
  Op* definingOp() const { return definingOp_; }
  /// The region whose argument this is, or null for an op result.
  Region* ownerRegion() const { return ownerRegion_; }
  /// Position among the definer's results or the region's arguments.
  int index() const { return index_; }

 private:
  friend class Op;
  friend class Region;
  Type type_;
  std::string name_;
  Op* definingOp_ = nullptr;
  Region* ownerRegion_ = nullptr;
  int index_ = 0;
};

}  // namespace cocktail::ir
