//===- ir/Schedule.cpp ------------------------------------------------------------===//
#include "ir/Schedule.h"

#include <fmt/format.h>

#include "ir/Op.h"
#include "ir/Program.h"

namespace cocktail::ir {

namespace {

using K = AttrKind;
using S = ScheduleScope;

// The names, once: the table below and the accessors use them.
constexpr char kPlacementAttr[] = "placement";
constexpr char kReasonAttr[] = "reason";
constexpr char kResidentAttr[] = "resident";
constexpr char kResidencyAttr[] = "residency";
constexpr char kTilesAttr[] = "tiles";
constexpr char kTileElemsAttr[] = "tile_elems";
constexpr char kSyncAttr[] = "sync";
constexpr char kMemAttr[] = "mem";
constexpr char kMemAliasAttr[] = "mem_alias";
constexpr char kBatchedAttr[] = "batched";
constexpr char kArenaBytesAttr[] = "arena_bytes";
constexpr char kArenaAlignAttr[] = "arena_align";

constexpr ScheduleAttrDecl kScheduleAttrs[] = {
    {kPlacementAttr, K::String, S::Op, "place-control-flow",
     "`persistent` or `host` on a `loop`; `device` or `host` on an `if`",
     "where the loop's or branch's control flow runs: one persistent kernel, the device, or the host"},
    {kReasonAttr, K::String, S::Op, "place-control-flow", "text", "why the placement was chosen"},
    {kResidentAttr, K::String, S::Op, "place-control-flow", "`\"@w1, @w2\"` (declared weights), or `\"\"`",
     "on a persistent `loop`: the weights it keeps on chip across iterations; empty: streamed"},
    {kResidencyAttr, K::String, S::Op, "place-control-flow", "text", "why the weights are (not) resident"},
    {kBatchedAttr, K::String, S::Op, "batch-steps", "text",
     "on an op moved out of a loop: which loop's steps it computes at once (the loop reads row `t`)"},
    {kTilesAttr, K::Int, S::Op, "partition", "1 to the result's elements at its bounds",
     "the uTasks the uOperator is split into"},
    {kTileElemsAttr, K::Int, S::Op, "partition", "positive; `tiles * tile_elems` covers the result (the last tiles may be empty)",
     "result elements per uTask (the last may have fewer)"},
    {kSyncAttr, K::String, S::Op, "partition", "`none`, `counter` or `barrier`",
     "how its tiles wait for their producers: not at all, per producer tile, or for all of them"},
    {kMemAttr, K::Ints, S::Op, "plan-memory",
     "one per result (on a `loop`: per carried value): an offset >= 0, or -1 for none",
     "each result's byte offset in the arena; -1 for a scalar or a tensor with a dim of unknown bound "
     "(allocated when it runs). Every planned tensor lies inside the arena, and no two live at the same "
     "time overlap"},
    {kMemAliasAttr, K::Int, S::Op, "plan-memory", "`0`",
     "the results live in operand 0's buffer: a view of it, or its bytes written in place"},
    {kArenaBytesAttr, K::Int, S::Function, "plan-memory", "0 to 64 GiB", "the bytes of the one arena the plan lays out"},
    {kArenaAlignAttr, K::Int, S::Function, "plan-memory", "a power of two, at most 4096",
     "the alignment of the arena and of every offset in it"},
};

}  // namespace

std::string_view toString(Placement p) {
  switch (p) {
    case Placement::Host:
      return "host";
    case Placement::Device:
      return "device";
    case Placement::Persistent:
      return "persistent";
  }
  return "?";
}

std::string_view toString(Sync s) {
  switch (s) {
    case Sync::None:
      return "none";
    case Sync::Counter:
      return "counter";
    case Sync::Barrier:
      return "barrier";
  }
  return "?";
}

std::optional<Placement> parsePlacement(std::string_view text) {
  for (Placement p : {Placement::Host, Placement::Device, Placement::Persistent})
    if (toString(p) == text) return p;
  return std::nullopt;
}

std::optional<Sync> parseSync(std::string_view text) {
  for (Sync s : {Sync::None, Sync::Counter, Sync::Barrier})
    if (toString(s) == text) return s;
  return std::nullopt;
}

std::span<const ScheduleAttrDecl> scheduleAttrs() { return kScheduleAttrs; }

const ScheduleAttrDecl* findScheduleAttr(std::string_view name, ScheduleScope scope) {
  for (const ScheduleAttrDecl& d : kScheduleAttrs)
    if (d.name == name && d.scope == scope) return &d;
  return nullptr;
}

std::string scheduleAttrsMarkdown() {
  std::string out = "| attribute | on | kind | written by | values | meaning |\n|---|---|---|---|---|---|\n";
  for (const ScheduleAttrDecl& d : kScheduleAttrs)
    out += fmt::format("| `{}` | {} | {} | `{}` | {} | {} |\n", d.name,
                       d.scope == ScheduleScope::Function ? "the function" : "an op", kindName(d.kind), d.pass,
                       d.values, d.meaning);
  return out;
}

// ---- placement ------------------------------------------------------------------------------

std::optional<Placement> placement(const Op& op) {
  const AttrValue* v = op.attrs().find(kPlacementAttr);
  const auto* text = v ? std::get_if<std::string>(v) : nullptr;
  return text ? parsePlacement(*text) : std::nullopt;
}

void setPlacement(Op& op, Placement p, std::string reason) {
  op.attrs().set(kPlacementAttr, std::string(toString(p)));
  op.attrs().set(kReasonAttr, std::move(reason));
}

std::string placementReason(const Op& op) { return op.attrs().getString(kReasonAttr).value_or(""); }

void setBatchedFrom(Op& op, std::string loop) { op.attrs().set(kBatchedAttr, std::move(loop)); }

std::string batchedFrom(const Op& op) { return op.attrs().getString(kBatchedAttr).value_or(""); }

std::optional<std::vector<std::string>> parseResidentList(std::string_view text) {
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? text.size() - pos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.size() < 2 || item.front() != '@') return std::nullopt;
    names.emplace_back(item.substr(1));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
    if (pos == text.size()) return std::nullopt;  // a trailing comma
  }
  return names;
}

std::vector<std::string> residentWeights(const Op& loop) {
  const AttrValue* v = loop.attrs().find(kResidentAttr);
  const auto* text = v ? std::get_if<std::string>(v) : nullptr;
  if (!text) return {};
  return parseResidentList(*text).value_or(std::vector<std::string>{});
}

std::string residencyReason(const Op& loop) { return loop.attrs().getString(kResidencyAttr).value_or(""); }

void setResidency(Op& loop, const std::vector<std::string>& names, std::string why) {
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "@" : ", @") + n;
  loop.attrs().set(kResidentAttr, std::move(list));
  loop.attrs().set(kResidencyAttr, std::move(why));
}

// ---- partition --------------------------------------------------------------------------------

std::optional<Partition> partition(const Op& op) {
  auto tiles = op.attrs().getInt(kTilesAttr);
  auto elems = op.attrs().getInt(kTileElemsAttr);
  if (!tiles || !elems) return std::nullopt;
  return Partition{*tiles, *elems, syncOf(op).value_or(Sync::None)};
}

std::optional<Sync> syncOf(const Op& op) {
  const AttrValue* s = op.attrs().find(kSyncAttr);
  const auto* text = s ? std::get_if<std::string>(s) : nullptr;
  return text ? parseSync(*text) : std::nullopt;
}

void setPartition(Op& op, const Partition& p) {
  op.attrs().set(kTilesAttr, p.tiles);
  op.attrs().set(kTileElemsAttr, p.tileElems);
  op.attrs().set(kSyncAttr, std::string(toString(p.sync)));
}

int64_t tilesOf(const Op& op) { return op.attrs().getInt(kTilesAttr).value_or(0); }
int64_t tileElemsOf(const Op& op) { return op.attrs().getInt(kTileElemsAttr).value_or(0); }

// ---- memory plan ------------------------------------------------------------------------------

OpMemPlan memPlan(const Op& op) {
  OpMemPlan plan;
  if (const AttrValue* v = op.attrs().find(kMemAttr))
    if (const auto* offsets = std::get_if<std::vector<int64_t>>(v)) plan.offsets = *offsets;
  plan.aliasesOperand0 = op.attrs().getInt(kMemAliasAttr) == 0;
  return plan;
}

void setMemOffsets(Op& op, std::vector<int64_t> offsets) { op.attrs().set(kMemAttr, std::move(offsets)); }
void setMemAliasesOperand0(Op& op) { op.attrs().set(kMemAliasAttr, int64_t{0}); }

std::optional<ArenaPlan> arenaPlan(const Program& program) {
  auto bytes = program.attrs().getInt(kArenaBytesAttr);
  if (!bytes) return std::nullopt;
  return ArenaPlan{*bytes, program.attrs().getInt(kArenaAlignAttr).value_or(64)};
}

void setArenaPlan(Program& program, const ArenaPlan& arena) {
  program.attrs().set(kArenaBytesAttr, arena.bytes);
  program.attrs().set(kArenaAlignAttr, arena.align);
}

}  // namespace cocktail::ir
