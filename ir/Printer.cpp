//===- ir/Printer.cpp - Program → text ----------------------------------------===//
//
// Two steps: name every value of the function (hints first, in program
// order, then fresh names for the rest, so a generated name can never take
// a name the user wrote), then print ops recursively, two spaces per region
// level.
//
//===----------------------------------------------------------------------===//
#include "ir/Printer.h"

#include <fmt/format.h>

#include <unordered_map>
#include <unordered_set>

namespace cocktail::ir {

bool isValidValueName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '$' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

bool isBareAttrName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

/// `@name`, quoted when the name has characters the lexer would stop at.
std::string symbolRef(const std::string& name) {
  if (isValidValueName(name)) return "@" + name;
  return "@" + attrValueToString(name);
}

/// Gives every value of a function a unique printed name.
class Namer {
 public:
  explicit Namer(const Region& root) {
    collect(root);
    assign();
  }
  /// For an op that is in no region: its results and nested regions only.
  explicit Namer(const Op& root) {
    collectOp(root);
    assign();
  }

  /// Every value's name, without the `%`.
  const std::unordered_map<const Value*, std::string>& names() const { return names_; }

  std::string name(const Value* v) const {
    if (!v) return "%<null>";
    auto it = names_.find(v);
    return it == names_.end() ? "%<unknown>" : "%" + it->second;
  }

 private:
  void collect(const Region& r) {
    for (const auto& a : r.arguments()) order_.push_back(a.get());
    for (const auto& op : r.ops()) collectOp(*op);
  }
  void collectOp(const Op& op) {
    for (const auto& res : op.results()) order_.push_back(res.get());
    for (const auto& r : op.regions()) collect(*r);
  }

  // Hints are claimed first so that a hint seen late in the program still
  // wins over a generated name; clashes and unnamed values come after.
  void assign() {
    std::unordered_set<std::string> used;
    std::vector<const Value*> pending;
    for (const Value* v : order_) {
      std::string hint = sanitize(v->name());
      if (!hint.empty() && used.insert(hint).second) {
        names_[v] = hint;
        continue;
      }
      pending.push_back(v);
    }
    int64_t counter = 0;
    for (const Value* v : pending) {
      std::string hint = sanitize(v->name());
      std::string fresh;
      if (hint.empty()) {
        do fresh = std::to_string(counter++);
        while (used.count(fresh));
      } else {
        for (int64_t k = 1;; ++k) {
          fresh = fmt::format("{}.{}", hint, k);
          if (!used.count(fresh)) break;
        }
      }
      used.insert(fresh);
      names_[v] = fresh;
    }
  }

  // TorchScript debug names are mostly valid already; anything else is
  // mapped to '_' so that the hint still shows.
  static std::string sanitize(const std::string& hint) {
    std::string s = hint;
    for (char& c : s)
      if (!isValidValueName(std::string_view(&c, 1))) c = '_';
    return s;
  }

  std::vector<const Value*> order_;
  std::unordered_map<const Value*, std::string> names_;
};

class Printer {
 public:
  Printer(const Namer& names, const PrintOptions& options) : names_(names), options_(options) {}

  void printOp(const Op& op, int indent) {
    out_.append(indent, ' ');
    if (op.numResults()) {
      for (size_t i = 0; i < op.numResults(); ++i) {
        if (i) out_ += ", ";
        out_ += names_.name(op.result(i));
      }
      out_ += " = ";
    }
    out_ += op.name();
    if (op.numOperands()) {
      out_ += '(';
      for (size_t i = 0; i < op.numOperands(); ++i) {
        if (i) out_ += ", ";
        out_ += names_.name(op.operand(i));
      }
      out_ += ')';
    }
    printAttributes(op);
    if (op.numResults()) {
      out_ += " : ";
      for (size_t i = 0; i < op.numResults(); ++i) {
        if (i) out_ += ", ";
        out_ += op.result(i)->type().str();
      }
    }
    for (size_t i = 0; i < op.numRegions(); ++i) {
      out_ += (i == 1 && op.kind() == OpKind::If) ? " else" : "";
      if (options_.elideRegions) {
        out_ += " {...}";
        continue;
      }
      out_ += " {\n";
      printRegionBody(op.region(i), indent, /*printArgs=*/true);
      out_.append(indent, ' ');
      out_ += '}';
    }
    printLoc(op.loc());
  }

  /// The ops of `region` at `indent + 2`; the `^(...)` line at `indent`.
  void printRegionBody(const Region& region, int indent, bool printArgs) {
    if (printArgs && region.numArguments()) {
      out_.append(indent, ' ');
      out_ += "^(";
      printArgList(region);
      out_ += "):\n";
    }
    for (const auto& op : region.ops()) {
      printOp(*op, indent + 2);
      out_ += '\n';
    }
  }

  void printArgList(const Region& region) {
    for (size_t i = 0; i < region.numArguments(); ++i) {
      if (i) out_ += ", ";
      const Value* a = region.argument(i);
      out_ += names_.name(a) + ": " + a->type().str();
    }
  }

  void printProgram(const Program& p) {
    for (const Symbol& s : p.symbols()) out_ += fmt::format("symbol {} <= {}\n", s.name, s.bound);
    for (const WeightDecl& w : p.weights())
      out_ += fmt::format("weight {} : {}\n", symbolRef(w.name), w.type.str());
    out_ += "func " + symbolRef(p.funcName()) + "(";
    printArgList(p.body());
    out_ += ") -> (";
    for (size_t i = 0; i < p.resultTypes().size(); ++i) {
      if (i) out_ += ", ";
      out_ += p.resultTypes()[i].str();
    }
    out_ += ")";
    if (!p.attrs().empty()) {
      out_ += " attributes";
      printAttributeDict(p.attrs());
    }
    out_ += " {\n";
    printRegionBody(p.body(), 0, /*printArgs=*/false);
    out_ += "}\n";
  }

  std::string take() { return std::move(out_); }

 private:
  void printAttributes(const Op& op) {
    const auto& all = op.attrs().all();
    // `constant 3 : i64`: the value is the point of the op, so it goes first.
    auto value = all.end();
    if (op.kind() == OpKind::Constant) value = all.find("value");
    if (value != all.end()) out_ += " " + attrValueToString(value->second);
    size_t rest = all.size() - (value != all.end() ? 1 : 0);
    if (!rest) return;
    printAttributeDict(op.attrs(), value == all.end() ? nullptr : "value");
  }

  /// ` {a = 1, b = "x"}`, leaving out `skip`.
  void printAttributeDict(const Attributes& attrs, const char* skip = nullptr) {
    out_ += " {";
    bool first = true;
    for (const auto& [name, v] : attrs.all()) {
      if (skip && name == skip) continue;
      if (!first) out_ += ", ";
      first = false;
      out_ += isBareAttrName(name) ? name : attrValueToString(name);
      out_ += " = " + attrValueToString(v);
    }
    out_ += '}';
  }

  void printLoc(const Location& loc) {
    if (!options_.locations || !loc.known()) return;
    out_ += " loc(" + attrValueToString(loc.file);
    if (loc.line > 0) {
      out_ += fmt::format(":{}", loc.line);
      if (loc.column > 0) out_ += fmt::format(":{}", loc.column);
    }
    out_ += ')';
  }

  const Namer& names_;
  const PrintOptions& options_;
  std::string out_;
};

}  // namespace

std::string printProgram(const Program& program, const PrintOptions& options) {
  Namer names(program.body());
  Printer printer(names, options);
  printer.printProgram(program);
  return printer.take();
}

std::string printOp(const Op& op) { return printOp(op, PrintOptions{}); }

namespace {
/// Names values as the whole function would, so that an op reads the same
/// in a diagnostic as in a dump.
Namer namerFor(const Op& op) {
  const Op* top = &op;
  while (top->parentRegion() && top->parentRegion()->parentOp()) top = top->parentRegion()->parentOp();
  return top->parentRegion() ? Namer(*top->parentRegion()) : Namer(*top);
}
}  // namespace

std::string printOp(const Op& op, const PrintOptions& options) {
  Namer names = namerFor(op);
  Printer printer(names, options);
  printer.printOp(op, 0);
  return printer.take();
}

std::string printValueName(const Value* value, const Op& context) { return namerFor(context).name(value); }

std::unordered_map<const Value*, std::string> printedValueNames(const Program& program) {
  return Namer(program.body()).names();
}

}  // namespace cocktail::ir
