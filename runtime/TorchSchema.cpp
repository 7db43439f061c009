//===- runtime/TorchSchema.cpp ------------------------------------------------------===//
#include "runtime/TorchSchema.h"

#include <fmt/format.h>

namespace cocktail::runtime {

namespace {
bool specFits(const ir::InputSpec& spec, const c10::TypePtr& t) {
  switch (t->kind()) {
    case c10::TypeKind::TensorType: return spec.type.isTensor();
    case c10::TypeKind::IntType: return spec.type.isScalar() && spec.type.dtype() == ir::DType::I64;
    case c10::TypeKind::FloatType: return spec.type.isScalar() && spec.type.dtype() == ir::DType::F64;
    case c10::TypeKind::BoolType: return spec.type.isScalar() && spec.type.dtype() == ir::DType::I1;
    // An Optional argument given a value: compiled for it not being None
    // (the frontend types the argument as its element; `is None` folds).
    case c10::TypeKind::OptionalType: return specFits(spec, t->castRaw<c10::OptionalType>()->getElementType());
    default: return false;
  }
}

/// The method's receiver: its first argument, the module (named `self` by
/// convention only; `def forward(m, x)` is as valid).
bool isReceiver(const c10::FunctionSchema& schema, size_t i) {
  return i == 0 && !schema.arguments().empty() && schema.arguments()[0].type()->kind() == c10::TypeKind::ClassType;
}
}  // namespace

std::string describeArguments(const c10::FunctionSchema& schema) {
  std::string s = schema.name() + "(";
  bool first = true;
  for (size_t i = 0; i < schema.arguments().size(); ++i) {
    if (isReceiver(schema, i)) continue;
    const c10::Argument& a = schema.arguments()[i];
    s += (first ? "" : ", ") + a.name() + ": " + a.type()->repr_str();
    first = false;
  }
  return s + ")";
}

ir::Expected<std::vector<ir::InputSpec>> matchSpecsToArguments(
    const c10::FunctionSchema& schema, const std::vector<ir::InputSpec>& specs, std::string_view what,
    const std::function<std::string(const c10::Argument&)>& missingHint) {
  std::vector<ir::InputSpec> ordered;
  for (size_t i = 0; i < schema.arguments().size(); ++i) {
    if (isReceiver(schema, i)) continue;
    const c10::Argument& arg = schema.arguments()[i];
    const ir::InputSpec* spec = nullptr;
    for (const ir::InputSpec& s : specs)
      if (s.name == arg.name()) spec = &s;
    if (!spec)
      return ir::Status::error(fmt::format("missing {} for argument '{}' of {}{}", what, arg.name(),
                                           describeArguments(schema), missingHint ? missingHint(arg) : ""));
    if (spec->absent) {
      const c10::TypeKind k = arg.type()->kind();
      if (k != c10::TypeKind::OptionalType && k != c10::TypeKind::NoneType)
        return ir::Status::error(fmt::format("{} {}: argument '{}' of {} has type {}, which is not Optional; only an "
                                             "Optional argument can be none",
                                             what, spec->str(), arg.name(), describeArguments(schema),
                                             arg.type()->repr_str()));
      ordered.push_back(*spec);
      continue;
    }
    if (!specFits(*spec, arg.type()))
      return ir::Status::error(fmt::format(
          "{} {}: argument '{}' of {} has type {}, but the spec says {}{}", what, spec->str(), arg.name(),
          describeArguments(schema), arg.type()->repr_str(), spec->type.str(),
          arg.type()->kind() == c10::TypeKind::OptionalType
              ? fmt::format(" (an Optional argument takes a spec of its element type, or {}:none)", arg.name())
              : ""));
    ordered.push_back(*spec);
  }
  for (const ir::InputSpec& s : specs) {
    bool used = false;
    for (const ir::InputSpec& u : ordered) used |= u.name == s.name;
    if (!used)
      return ir::Status::error(
          fmt::format("{} {}: {} has no argument named '{}'", what, s.str(), describeArguments(schema), s.name));
  }
  return ordered;
}

}  // namespace cocktail::runtime
