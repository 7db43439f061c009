//===- ir/Attribute.cpp -------------------------------------------------------===//
#include "ir/Attribute.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace cocktail::ir {

namespace {
std::string escape(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

// Shortest text that reads back to the same double, always with a '.', an
// exponent or a word, so that the parser never mistakes it for an integer.
std::string formatDouble(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

std::string attrValueToString(const AttrValue& v) {
  struct Visitor {
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return formatDouble(d); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(const std::string& s) const { return escape(s); }
    std::string operator()(const std::vector<int64_t>& v) const { return fmt::format("[{}]", fmt::join(v, ", ")); }
    std::string operator()(DType t) const { return std::string(dtypeName(t)); }
  };
  return std::visit(Visitor{}, v);
}

std::optional<double> Attributes::getFloat(const std::string& name) const {
  if (auto d = get<double>(name)) return d;
  if (auto i = get<int64_t>(name)) return static_cast<double>(*i);
  return std::nullopt;
}

bool hasKind(const AttrValue& v, AttrKind k) {
  switch (k) {
    case AttrKind::Int:
      return std::holds_alternative<int64_t>(v);
    case AttrKind::Number:
      return std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v);
    case AttrKind::Bool:
      return std::holds_alternative<bool>(v);
    case AttrKind::String:
      return std::holds_alternative<std::string>(v);
    case AttrKind::Ints:
      return std::holds_alternative<std::vector<int64_t>>(v);
    case AttrKind::DType:
      return std::holds_alternative<DType>(v);
    case AttrKind::Literal:
      return std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v) ||
             std::holds_alternative<bool>(v);
  }
  return false;
}

std::string_view kindName(AttrKind k) {
  switch (k) {
    case AttrKind::Int:
      return "an integer";
    case AttrKind::Number:
      return "a number";
    case AttrKind::Bool:
      return "a bool";
    case AttrKind::String:
      return "a string";
    case AttrKind::Ints:
      return "an integer list";
    case AttrKind::DType:
      return "a dtype";
    case AttrKind::Literal:
      return "an integer, a double or a bool";
  }
  return "?";
}

}  // namespace cocktail::ir
