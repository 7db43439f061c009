//===- ir/DotPrinter.cpp ----------------------------------------------------------===//
#include "ir/DotPrinter.h"

#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "ir/Printer.h"
#include "ir/Schedule.h"

namespace cocktail::ir {

namespace {

/// A Graphviz string literal's contents: quotes and backslashes escaped,
/// newlines as Graphviz's `\n`.
std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

/// Long reasons broken into lines of about `width` characters at spaces.
std::string wrap(std::string_view text, size_t width = 60) {
  std::string out;
  size_t column = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(start, end - start);
    if (column > 0 && column + 1 + word.size() > width) {
      out += '\n';
      column = 0;
    } else if (column > 0) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    start = end + 1;
  }
  return out;
}

/// Ops that are no work and only clutter the drawing.
bool hidden(const Op& op) {
  switch (op.kind()) {
    case OpKind::Constant:
    case OpKind::Size:
    case OpKind::Rank:
    case OpKind::Numel:
    case OpKind::Yield:
      return true;
    default:
      return false;
  }
}

class DotPrinter {
 public:
  explicit DotPrinter(const Program& program) : program_(program), names_(printedValueNames(program)) {}

  std::string print() {
    out_ += "digraph cocktail {\n";
    out_ += "  rankdir=TB;\n  compound=true;\n";
    out_ += "  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n";
    out_ += "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n";
    std::string title = "@forward";
    if (auto arena = arenaPlan(program_)) title += fmt::format("\narena: {} bytes", arena->bytes);
    out_ += fmt::format("  label=\"{}\";\n  labelloc=t;\n", escape(title));
    nodes(program_.body(), 1);
    edges(program_.body());
    out_ += "}\n";
    return std::move(out_);
  }

 private:
  std::string name(const Value* v) const {
    auto it = names_.find(v);
    return it == names_.end() ? "%?" : "%" + it->second;
  }

  std::string resultNames(const Op& op) const {
    std::string s;
    for (const auto& r : op.results()) s += (s.empty() ? "" : ", ") + name(r.get());
    return s;
  }

  std::string resultTypes(const Op& op) const {
    std::string s;
    for (const auto& r : op.results()) s += (s.empty() ? "" : ", ") + r->type().str();
    return s;
  }

  std::string id(const Op& op) {
    auto [it, added] = ids_.try_emplace(&op, fmt::format("op{}", ids_.size()));
    return it->second;
  }

  std::string argsId(const Region& r) {
    auto [it, added] = argIds_.try_emplace(&r, fmt::format("args{}", argIds_.size()));
    return it->second;
  }

  void line(int indent, const std::string& text) {
    out_.append(static_cast<size_t>(indent) * 2, ' ');
    out_ += text;
    out_ += '\n';
  }

  /// What a uOperator's node says: results, op, type, then the schedule.
  std::string label(const Op& op) const {
    std::string text = op.numResults() ? resultNames(op) + " = " : "";
    text += op.name();
    if (op.kind() == OpKind::Weight) text = "@" + op.attrs().getString("name").value_or(resultNames(op));
    if (op.kind() == OpKind::Fused) {
      std::string inner;
      for (const auto& p : op.region(0).ops())
        if (p->kind() != OpKind::Yield) inner += (inner.empty() ? "" : ", ") + std::string(p->name());
      text += "\n(" + wrap(inner, 40) + ")";
    }
    if (op.numResults()) text += "\n" + resultTypes(op);
    if (auto part = partition(op))
      text += fmt::format("\n{} tile{} of {}, sync {}", part->tiles, part->tiles == 1 ? "" : "s", part->tileElems,
                          toString(part->sync));
    if (std::string from = batchedFrom(op); !from.empty()) text += "\nbatched: " + wrap(from, 40);
    return text;
  }

  std::string style(const Op& op) const {
    if (!batchedFrom(op).empty()) return "style=filled, fillcolor=\"#c7e9c0\"";
    switch (op.kind()) {
      case OpKind::Weight:
        return "shape=cylinder, style=filled, fillcolor=\"#eeeeee\"";
      case OpKind::Fused:
        return "style=filled, fillcolor=\"#fff2cc\"";
      case OpKind::Island:
        return "style=filled, fillcolor=\"#f4cccc\"";
      case OpKind::Return:
        return "shape=plaintext";
      default:
        break;
    }
    if (isView(op.kind())) return "shape=ellipse, fontsize=9, color=\"#999999\"";
    return "";
  }

  /// A cluster per loop and branch (the header inside it), a node per op.
  void nodes(const Region& region, int indent) {
    if (region.numArguments()) {
      std::string args;
      for (const auto& a : region.arguments()) args += (args.empty() ? "" : ", ") + name(a.get());
      line(indent, fmt::format("{} [label=\"^({})\", shape=plaintext, fontsize=9];", argsId(region),
                               escape(wrap(args, 50))));
    }
    for (const auto& p : region.ops()) {
      const Op& op = *p;
      if (hidden(op)) continue;
      if (op.kind() == OpKind::Loop || op.kind() == OpKind::If) {
        controlFlow(op, indent);
        continue;
      }
      std::string attrs = style(op);
      line(indent, fmt::format("{} [label=\"{}\"{}{}];", id(op), escape(label(op)), attrs.empty() ? "" : ", ", attrs));
    }
  }

  void controlFlow(const Op& op, int indent) {
    const auto placed = placement(op);
    std::string title = fmt::format("{} = {}", resultNames(op), op.name());
    if (op.kind() == OpKind::Loop) title += fmt::format(" over {}", name(op.region(0).argument(0)));
    if (placed) title += fmt::format(": {}", toString(*placed));
    if (std::string why = placementReason(op); !why.empty()) title += "\n" + wrap(why);
    if (std::string why = residencyReason(op); !why.empty()) title += "\n" + wrap(why);
    const bool persistent = placed == Placement::Persistent;
    line(indent, fmt::format("subgraph cluster_{} {{", id(op)));
    line(indent + 1, persistent ? "style=filled; fillcolor=\"#dbe9f6\"; color=\"#4a7ab5\";"
                     : placed == Placement::Device ? "style=filled; fillcolor=\"#fde0dd\";"
                                                   : "style=dashed;");
    line(indent + 1, fmt::format("label=\"{}\";", escape(title)));
    // The header: what the loop's or branch's operands and results attach to.
    line(indent + 1, fmt::format("{} [label=\"{}\", shape=diamond, fontsize=9];", id(op), op.name()));
    if (op.kind() == OpKind::Loop) {
      nodes(op.region(0), indent + 1);
    } else {
      for (size_t i = 0; i < op.numRegions(); ++i) {
        line(indent + 1, fmt::format("subgraph cluster_{}_{} {{", id(op), i));
        line(indent + 2, fmt::format("label=\"{}\"; style=dotted;", i == 0 ? "then" : "else"));
        nodes(op.region(i), indent + 2);
        line(indent + 1, "}");
      }
    }
    line(indent, "}");
  }

  /// Where an edge from `v` starts; empty for a value that is not drawn.
  std::string source(const Value* v) {
    if (const Op* def = v->definingOp()) return hidden(*def) ? std::string() : id(*def);
    if (const Region* r = v->ownerRegion(); r && r->numArguments()) return argsId(*r);
    return {};
  }

  void edges(const Region& region) {
    for (const auto& p : region.ops()) {
      const Op& op = *p;
      if (op.kind() == OpKind::Yield) {
        // Carried to the next iteration, or out of the branch: back to the header.
        const Op* owner = region.parentOp();
        if (!owner) continue;
        for (size_t i = 0; i < op.numOperands(); ++i) {
          std::string from = source(op.operand(i));
          if (!from.empty())
            line(1, fmt::format("{} -> {} [style=dashed, constraint=false];", from, id(*owner)));
        }
        continue;
      }
      if (hidden(op)) continue;
      for (const Value* v : op.operands()) {
        std::string from = source(v);
        if (!from.empty()) line(1, fmt::format("{} -> {};", from, id(op)));
      }
      if (op.kind() == OpKind::Fused) continue;
      for (const auto& r : op.regions()) {
        if (r->numArguments()) line(1, fmt::format("{} -> {} [style=dotted];", id(op), argsId(*r)));
        edges(*r);
      }
    }
  }

  const Program& program_;
  std::unordered_map<const Value*, std::string> names_;
  std::unordered_map<const Op*, std::string> ids_;
  std::unordered_map<const Region*, std::string> argIds_;
  std::string out_;
};

}  // namespace

std::string printDot(const Program& program) { return DotPrinter(program).print(); }

}  // namespace cocktail::ir
