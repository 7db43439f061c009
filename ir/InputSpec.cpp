//===- ir/InputSpec.cpp ---------------------------------------------------------===//
#include "ir/InputSpec.h"

#include <algorithm>

#include <cctype>
#include <charconv>
#include <map>

#include <fmt/format.h>

namespace cocktail::ir {

namespace {

bool isIdentifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parseInt(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string InputSpec::str() const {
  std::string s = name + ":";
  if (absent) return s + "none";
  if (type.isScalar()) return s + std::string(dtypeName(type.dtype()));
  s += std::string(dtypeName(type.dtype())) + "[";
  for (size_t i = 0; i < type.dims().size(); ++i) {
    if (i) s += ',';
    const Dim& d = type.dims()[i];
    if (d.isConstant()) {
      s += std::to_string(d.value());
    } else {
      s += d.symbolName();
      // The bound goes with the symbol's first mention only (`T<=8,T`).
      bool mentioned = false;
      for (size_t j = 0; j < i; ++j) mentioned |= type.dims()[j].isSymbol() && type.dims()[j].symbolName() == d.symbolName();
      if (!mentioned)
        for (const Symbol& sym : symbols)
          if (sym.name == d.symbolName()) s += "<=" + std::to_string(sym.bound);
    }
  }
  return s + "]";
}

Expected<InputSpec> parseInputSpec(std::string_view text) {
  auto fail = [&](const std::string& why) {
    return Status::error(fmt::format(
        "invalid input spec '{}': {} (expected NAME:DTYPE[DIMS] such as 'xs:f32[T<=128,4,64]', NAME:DTYPE "
        "for a scalar such as 'steps:i64', or NAME:none for an Optional argument that is None)",
        text, why));
  };
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return fail("missing ':' between the name and the type");
  InputSpec spec;
  spec.name = std::string(trim(text.substr(0, colon)));
  if (!isIdentifier(spec.name)) return fail(fmt::format("'{}' is not a valid argument name", spec.name));
  std::string_view rest = trim(text.substr(colon + 1));
  if (rest == "none") {
    spec.absent = true;
    return spec;
  }
  size_t bracket = rest.find('[');
  std::string_view dtypeText = trim(rest.substr(0, bracket));
  if (dtypeText == "none") return fail("'none' takes no dims: write NAME:none for an absent Optional argument");
  auto dtype = parseDType(dtypeText);
  if (!dtype) return fail(fmt::format("unknown dtype '{}' (one of {}or none)", dtypeText, kDTypeNames));
  if (bracket == std::string_view::npos) {
    if (*dtype != DType::I64 && *dtype != DType::F64 && *dtype != DType::I1)
      return fail(fmt::format("a scalar must be i64, f64 or i1, not {}; a tensor needs dims, e.g. '{}:{}[4]'",
                              dtypeText, spec.name, dtypeText));
    spec.type = Type::scalar(*dtype);
    return spec;
  }
  if (rest.back() != ']') return fail("missing ']' at the end");
  std::string_view dimsText = rest.substr(bracket + 1, rest.size() - bracket - 2);
  std::vector<Dim> dims;
  if (!trim(dimsText).empty()) {
    size_t start = 0;
    while (true) {
      size_t comma = dimsText.find(',', start);
      std::string_view item = trim(dimsText.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                                         : comma - start));
      int64_t n = 0;
      if (item.empty()) return fail("empty dimension");
      if (parseInt(item, n)) {
        if (n < 0) return fail(fmt::format("negative dimension {}", n));
        dims.push_back(Dim::constant(n));
      } else {
        size_t le = item.find("<=");
        std::string_view symName = trim(item.substr(0, le));
        if (!isIdentifier(symName))
          return fail(fmt::format("dimension '{}' is neither a number nor a symbol like 'T<=128'", item));
        if (le != std::string_view::npos) {
          int64_t bound = 0;
          std::string_view boundText = trim(item.substr(le + 2));
          if (!parseInt(boundText, bound) || bound <= 0)
            return fail(fmt::format("the bound of '{}' must be a positive integer, got '{}'", symName, boundText));
          // A bound repeated in one spec is the same bound, given once more.
          auto same = std::find_if(spec.symbols.begin(), spec.symbols.end(),
                                   [&](const Symbol& s) { return s.name == symName; });
          if (same == spec.symbols.end())
            spec.symbols.push_back(Symbol{std::string(symName), bound});
          else if (same->bound != bound)
            return fail(fmt::format("symbol '{}' has two different bounds: {} and {}", symName, same->bound, bound));
        }
        dims.push_back(Dim::symbol(std::string(symName)));
      }
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  spec.type = Type::tensor(*dtype, std::move(dims));
  return spec;
}

Expected<std::vector<InputSpec>> parseInputSpecs(const std::vector<std::string>& texts,
                                                 std::vector<Symbol>* symbolsOut) {
  std::vector<InputSpec> specs;
  std::map<std::string, int64_t> bounds;
  for (const std::string& t : texts) {
    auto spec = parseInputSpec(t);
    if (!spec) return spec.status();
    for (const InputSpec& other : specs)
      if (other.name == spec->name) return Status::error(fmt::format("input '{}' is specified twice", spec->name));
    for (const Symbol& s : spec->symbols) {
      auto [it, inserted] = bounds.emplace(s.name, s.bound);
      if (!inserted && it->second != s.bound)
        return Status::error(fmt::format("symbol '{}' has two different bounds: {} and {}", s.name, it->second,
                                         s.bound));
    }
    specs.push_back(spec.take());
  }
  for (const InputSpec& spec : specs)
    for (const Dim& d : spec.type.dims())
      if (d.isSymbol() && !bounds.count(d.symbolName()))
        return Status::error(fmt::format("symbol '{}' in input '{}' has no bound: write it once as '{}<=N'",
                                         d.symbolName(), spec.name, d.symbolName()));
  if (symbolsOut) {
    symbolsOut->clear();
    // Keep first-mention order so that printed programs are stable.
    for (const InputSpec& spec : specs)
      for (const Symbol& s : spec.symbols) {
        bool seen = false;
        for (const Symbol& o : *symbolsOut) seen |= o.name == s.name;
        if (!seen) symbolsOut->push_back(s);
      }
  }
  return specs;
}

}  // namespace cocktail::ir
