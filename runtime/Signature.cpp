//===- runtime/Signature.cpp -----------------------------------------------------------===//
#include "runtime/Signature.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

namespace cocktail::runtime {

std::string describe(const RuntimeValue& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "<none>"; }
    std::string operator()(const Tensor& t) const { return t.typeString(); }
    std::string operator()(int64_t i) const { return fmt::format("i64 = {}", i); }
    std::string operator()(double d) const { return fmt::format("f64 = {}", d); }
    std::string operator()(bool b) const { return fmt::format("i1 = {}", b); }
  };
  return std::visit(Visitor{}, v);
}

Signature Signature::of(const ir::Program& program) {
  Signature s;
  s.symbols = program.symbols();
  for (const auto& arg : program.body().arguments()) {
    ir::InputSpec spec;
    spec.name = arg->name();
    spec.type = arg->type();
    for (const ir::Dim& d : arg->type().dims())
      if (d.isSymbol())
        if (const ir::Symbol* sym = program.findSymbol(d.symbolName())) {
          bool seen = false;
          for (const auto& x : spec.symbols) seen |= x.name == sym->name;
          if (!seen) spec.symbols.push_back(*sym);
        }
    s.inputs.push_back(std::move(spec));
  }
  for (size_t i = 0; i < program.resultTypes().size(); ++i) s.outputNames.push_back(fmt::format("OUTPUT__{}", i));
  return s;
}

uint64_t Signature::maxTensorInputBytes() const {
  uint64_t largest = 0;
  for (const ir::InputSpec& spec : inputs) {
    if (spec.absent || !spec.type.isTensor()) continue;
    unsigned __int128 bytes = static_cast<uint64_t>(ir::dtypeSize(spec.type.dtype()));
    for (const ir::Dim& d : spec.type.dims()) {
      int64_t extent = -1;
      if (d.isConstant()) extent = d.value();
      for (const ir::Symbol& sym : symbols)
        if (d.isSymbol() && sym.name == d.symbolName()) extent = sym.bound;
      if (extent < 0) return UINT64_MAX;
      bytes = std::min<unsigned __int128>(bytes * static_cast<uint64_t>(extent), UINT64_MAX);
    }
    largest = std::max(largest, static_cast<uint64_t>(bytes));
  }
  return largest;
}

std::string Signature::str() const {
  std::string s = "forward(";
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i) s += ", ";
    std::string spec = inputs[i].str();
    s += inputs[i].name + ": " + spec.substr(spec.find(':') + 1);
  }
  return s + ")";
}

ir::Status Signature::check(const std::vector<RuntimeValue>& values, std::map<std::string, int64_t>* symbolValues) const {
  if (values.size() != inputs.size())
    return ir::Status::error(fmt::format("expected {} inputs for {}, got {}", inputs.size(), str(), values.size()));
  std::map<std::string, std::pair<int64_t, std::string>> seen;  // symbol -> (value, where)
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ir::InputSpec& spec = inputs[i];
    const RuntimeValue& v = values[i];
    if (spec.type.isScalar()) {
      bool ok = (spec.type.dtype() == ir::DType::I64 && std::holds_alternative<int64_t>(v)) ||
                (spec.type.dtype() == ir::DType::F64 && (std::holds_alternative<double>(v) || std::holds_alternative<int64_t>(v))) ||
                (spec.type.dtype() == ir::DType::I1 && std::holds_alternative<bool>(v));
      if (!ok)
        return ir::Status::error(fmt::format("input '{}' must be a scalar of type {}, got {}", spec.name,
                                             ir::dtypeName(spec.type.dtype()), describe(v)));
      continue;
    }
    const Tensor* t = std::get_if<Tensor>(&v);
    if (!t) return ir::Status::error(fmt::format("input '{}' must be a tensor {}, got {}", spec.name, spec.type.str(), describe(v)));
    if (t->dtype() != spec.type.dtype())
      return ir::Status::error(fmt::format("input '{}' must have dtype {}, got {}", spec.name,
                                           ir::dtypeName(spec.type.dtype()), t->typeString()));
    const auto& dims = spec.type.dims();
    if (t->dim() != static_cast<int64_t>(dims.size()))
      return ir::Status::error(fmt::format("input '{}' must have rank {} ({}), got {}", spec.name, dims.size(),
                                           spec.type.str(), t->typeString()));
    for (size_t d = 0; d < dims.size(); ++d) {
      int64_t actual = t->shape()[d];
      if (dims[d].isConstant() && actual != dims[d].value())
        return ir::Status::error(fmt::format("input '{}': dim {} must be {}, got {} (shape {})", spec.name, d,
                                             dims[d].value(), actual, shapeToString(t->shape())));
      if (!dims[d].isSymbol()) continue;
      const std::string& sym = dims[d].symbolName();
      int64_t bound = 0;
      for (const ir::Symbol& s : symbols)
        if (s.name == sym) bound = s.bound;
      if (actual > bound)
        return ir::Status::error(fmt::format("input '{}': dim {} is {}, above the bound {}<={} the model was compiled for",
                                             spec.name, d, actual, sym, bound));
      std::string where = fmt::format("input '{}' dim {}", spec.name, d);
      auto [it, inserted] = seen.emplace(sym, std::make_pair(actual, where));
      if (!inserted && it->second.first != actual)
        return ir::Status::error(fmt::format("symbol {} is {} in {} but {} in {}", sym, it->second.first,
                                             it->second.second, actual, where));
    }
  }
  if (symbolValues)
    for (const auto& [k, v] : seen) (*symbolValues)[k] = v.first;
  return ir::Status::success();
}

}  // namespace cocktail::runtime
