//===- ir/Schedule.h - The schedule's attributes, declared once and typed ---===//
//
// The scheduling passes (place-control-flow, partition, plan-memory) say how
// the program runs by attributes on its ops and its function: a loop's
// placement, a uOperator's tiles, the memory plan. Their text form is the
// attribute syntax every IR test reads (`{mem = [0], tiles = 4}`); this file
// is the one place that knows their names and meanings. Passes write them
// and backends read them through the typed accessors below; the verifier
// (ir/ScheduleVerifier.h) checks each against its declaration here and
// the plan's invariants, so a backend may trust what it reads. docs/ir.md
// lists the same table (tests/ir/ir_test.cpp checks that it does).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/Attribute.h"

namespace cocktail::ir {

class Op;
class Program;

/// Where a loop or a branch runs its control flow.
enum class Placement : uint8_t {
  Host,        // `host`: decided by the host, each step's kernels launched from it
  Device,      // `device`: an `if` whose predicate is read where it was computed
  Persistent,  // `persistent`: a loop run whole by one persistent kernel
};

/// How a uOperator's tiles wait for their producers.
enum class Sync : uint8_t {
  None,     // `none`: no producer in its region
  Counter,  // `counter`: each tile waits for the producer tiles of its elements
  Barrier,  // `barrier`: every tile waits for every producer tile
};

std::string_view toString(Placement p);
std::string_view toString(Sync s);
std::optional<Placement> parsePlacement(std::string_view text);
std::optional<Sync> parseSync(std::string_view text);

/// Where a schedule attribute sits.
enum class ScheduleScope : uint8_t { Op, Function };

/// One schedule attribute: its name, kind, where it sits, which pass writes
/// it, the values it takes and what it means.
struct ScheduleAttrDecl {
  std::string_view name;
  AttrKind kind;
  ScheduleScope scope;
  std::string_view pass;
  std::string_view values;
  std::string_view meaning;
};

/// Every schedule attribute, in the order docs/ir.md lists them.
std::span<const ScheduleAttrDecl> scheduleAttrs();
/// The declaration of `name` (in `scope`); null when it is no schedule attribute.
const ScheduleAttrDecl* findScheduleAttr(std::string_view name, ScheduleScope scope);
/// The table as docs/ir.md shows it (Markdown, one row per attribute).
std::string scheduleAttrsMarkdown();

/// The largest arena a memory plan may ask for (64 GiB): a plan past it is
/// refused by the verifier rather than attempted.
inline constexpr int64_t kMaxArenaBytes = int64_t{1} << 36;
/// The largest arena alignment a plan may ask for.
inline constexpr int64_t kMaxArenaAlign = 4096;

// ---- placement (place-control-flow) -------------------------------------------------

/// A loop's or an `if`'s placement; nullopt when none was decided (or the
/// text is no placement, which the verifier refuses).
std::optional<Placement> placement(const Op& op);
/// Sets the placement and the one-line reason for it (`reason`).
void setPlacement(Op& op, Placement p, std::string reason);
/// Why the placement was chosen; empty when no reason is given.
std::string placementReason(const Op& op);

/// The weights a persistent loop keeps on chip, by name without the `@`
/// (`resident = "@w1, @w2"`); empty when none or not decided.
std::vector<std::string> residentWeights(const Op& loop);
/// Sets `resident` (possibly empty: streamed) and the one-line `residency`.
void setResidency(Op& loop, const std::vector<std::string>& names, std::string why);
/// Why the weights are (not) resident; empty when not decided.
std::string residencyReason(const Op& loop);
/// Parses `resident`'s text; nullopt when it is not a list of `@name`s.
std::optional<std::vector<std::string>> parseResidentList(std::string_view text);

// ---- batched steps (batch-steps) ----------------------------------------------------

/// Marks an op that computes, for all steps at once, what a loop computed
/// one step at a time; `loop` says which (`batched`).
void setBatchedFrom(Op& op, std::string loop);
/// The loop an op was batched from; empty when it was not.
std::string batchedFrom(const Op& op);

// ---- partition (partition) ------------------------------------------------------------

/// A uOperator's split into uTasks.
struct Partition {
  int64_t tiles = 0;      // uTasks
  int64_t tileElems = 0;  // result elements per uTask (the last may have fewer)
  Sync sync = Sync::None;
};

/// The op's partition; nullopt when it is not partitioned.
std::optional<Partition> partition(const Op& op);
void setPartition(Op& op, const Partition& p);
/// The partition's tiles, 0 when not partitioned.
int64_t tilesOf(const Op& op);
/// The partition's tile_elems, 0 when not partitioned.
int64_t tileElemsOf(const Op& op);
/// The partition's sync; nullopt when absent.
std::optional<Sync> syncOf(const Op& op);

// ---- memory plan (plan-memory) ----------------------------------------------------------

/// Offset `mem` gives a result that has no place in the arena: a scalar, or
/// a tensor with a dim of unknown bound (allocated when it runs).
inline constexpr int64_t kNotPlanned = -1;

/// An op's part of the memory plan.
struct OpMemPlan {
  /// Per result its byte offset in the arena, or kNotPlanned; empty when the
  /// op has no `mem`. On a loop: one buffer per carried value.
  std::span<const int64_t> offsets;
  /// `mem_alias = 0`: the results live in operand 0's buffer (a view of it,
  /// or its bytes written in place).
  bool aliasesOperand0 = false;
};

/// The op's part of the plan, without copying it (valid while the op's
/// attributes are unchanged).
OpMemPlan memPlan(const Op& op);
void setMemOffsets(Op& op, std::vector<int64_t> offsets);
void setMemAliasesOperand0(Op& op);

/// The function's arena: the bytes the plan needs and their alignment.
struct ArenaPlan {
  int64_t bytes = 0;
  int64_t align = 64;
};

/// The arena of a planned program; nullopt when it has no memory plan.
std::optional<ArenaPlan> arenaPlan(const Program& program);
void setArenaPlan(Program& program, const ArenaPlan& arena);

}  // namespace cocktail::ir
