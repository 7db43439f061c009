//===- frontend/GraphTranslator.h - A frozen TorchScript graph to a Program ------===//
//
// Internal to the frontend (it includes LibTorch). Walks the graph once, in
// order, and keeps for every TorchScript value its translation (a `Slot`:
// an IR value, a tuple/list of slots, None, ...).
//
// In-place writes are functionalised here rather than by LibTorch, because
// RemoveTensorMutation leaves writes into views of inputs alone: writing
// `src` into a view `v` of a root tensor `r` becomes a chain of scatters that
// yields a new SSA value for `r`. Loops and ifs that write into a root defined
// outside them carry it as an extra loop-carried value / if result. Views are
// recomputed from their root when the root changed since they were taken, so
// reads through a view see earlier writes as they do in PyTorch.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>

#include "frontend/Frontend.h"
#include "ir/Builder.h"
#include "ir/Program.h"

namespace cocktail::frontend {

namespace jit = torch::jit;

/// What a TorchScript value translated to.
struct Slot {
  // Rows: a List[Tensor] that control flow appends to (frontend/ListLowering.cpp):
  // `value` holds its elements as the rows of one buffer (undef while it has
  // none), elems[0] their count (i64) and elems[1] how many rows to allocate
  // at the first append.
  // Nested: nn.TransformerEncoder's nested tensor (frontend/AttentionLowering.cpp):
  // `value` the padded batch, elems[0] its mask of valid positions.
  // Packed: a packed sequence's data (frontend/PackedSequenceLowering.cpp):
  // `value` the padded batch, time-major; elems[0] the lengths, elems[1] the padding mask.
  enum class Kind { Unset, Value, None, List, SizeList, DTypeOf, String, Rows, Optional, Nested, Packed };
  Kind kind = Kind::Unset;
  // Value; the tensor for SizeList and DTypeOf; the buffer for Rows; Optional:
  // the value when not None
  ir::Value* value = nullptr;
  std::vector<Slot> elems;     // List (tuples and lists alike); Rows: count, first capacity
  std::string str;             // String
  ir::Value* isNone = nullptr;  // Optional: an i1, true while the value is None

  static Slot of(ir::Value* v) { return Slot{Kind::Value, v, {}, {}}; }
  static Slot none() { return Slot{Kind::None, nullptr, {}, {}}; }
  static Slot list(std::vector<Slot> e) { return Slot{Kind::List, nullptr, std::move(e), {}}; }
  /// An Optional carried through control flow (`h = None` before a loop
  /// that sets it): a flag and the value, read only where the flag is false.
  static Slot optional(ir::Value* isNone, ir::Value* v) { return Slot{Kind::Optional, v, {}, {}, isNone}; }
};

/// A user error while translating: which node, and why.
struct TranslationError {
  std::string message;
  std::string op;     // "aten::slice", empty when not about one node
  ir::Location loc;
  ir::ErrorKind kind = ir::ErrorKind::User;
};

class GraphTranslator {
 public:
  GraphTranslator(ir::Program& program, const FrontendOptions& options) : program_(program), options_(options), b_(program.body()) {}

  /// Translates `graph` (frozen and inlined; input 0 is `self`) with the
  /// given argument types; an `absent` argument is None (`--input NAME:none`)
  /// and not an argument of the program. Throws TranslationError.
  void run(jit::Graph& graph, const std::vector<ir::Type>& argTypes, const std::vector<std::string>& argNames,
           const std::vector<bool>& absent = {});

  const std::vector<Fallback>& fallbacks() const { return fallbacks_; }

  // ---- used by the op lowerings (AtenLowering.cpp) ----
  ir::Builder& builder() { return b_; }
  /// The IR value of a TorchScript value that must be a single value.
  ir::Value* value(const jit::Value* v);
  const Slot& slot(const jit::Value* v);
  void bind(const jit::Value* v, Slot s);
  void bind(const jit::Value* v, ir::Value* irv) { bind(v, Slot::of(irv)); }
  /// The constant int/float/bool of a prim::Constant input, if it is one.
  std::optional<int64_t> constInt(const jit::Value* v) const;
  std::optional<double> constDouble(const jit::Value* v) const;
  std::optional<bool> constBool(const jit::Value* v) const;
  std::optional<std::vector<int64_t>> constIntList(const jit::Value* v) const;
  bool isNone(const jit::Value* v) const;
  /// Records that `out` is the same tensor as `in` (in-place ops return self).
  void alias(const jit::Value* out, const jit::Value* in);
  /// Writes `newValue` into the tensor `target` denotes, updating its root.
  void writeInto(const jit::Value* target, ir::Value* newValue);
  /// Rebinds the list (or tensor) that `v` denotes to `s` (aten::append).
  void rebind(const jit::Value* v, Slot s) { env_[canonical(v)] = std::move(s); }
  /// The IR type a TorchScript type translates to (tensor types are unknown).
  ir::Type irType(const c10::TypePtr& t, const jit::Node* where) const;

  /// Throws a TranslationError at `n`: a User error unless `kind` says it is a construct the compiler lacks.
  [[noreturn]] void fail(const jit::Node* n, const std::string& message,
                         ir::ErrorKind kind = ir::ErrorKind::User) const;
  static ir::Location locationOf(const jit::Node* n);
  /// Why the value `v` (translated to `s`) cannot be used as one IR value.
  std::string describeUnusable(const jit::Value* v, const Slot& s) const;

 private:
  void translateBlock(jit::Block* block);
  void translateNode(jit::Node* n);
  void translateLoop(jit::Node* n);
  void translateIf(jit::Node* n);
  void translateConstant(jit::Node* n);
  Slot constantSlot(const c10::IValue& iv, const jit::Value* out, const jit::Node* n);
  /// The aten/prim op table; false when the op is not lowered.
  bool lowerOp(jit::Node* n, std::string& whyNot);
  void emitIsland(jit::Node* n, const std::string& whyNot);

  // Mutation analysis: for every Loop/If, the roots defined outside it that
  // are written inside it (in first-write order).
  void analyzeMutations(jit::Block* block);
  const jit::Value* rootOf(const jit::Value* v) const;
  const jit::Value* canonical(const jit::Value* v) const;

  // Flattening of tuples for loop-carried values and if results.
  void flattenInto(const Slot& s, std::vector<ir::Value*>& out, const jit::Node* where) const;
  /// The leaves of `v` as a value of type `as` (a loop-carried or if-result
  /// type): an Optional is two leaves (is-None flag, value) whatever `v` is.
  void flattenAs(const jit::Value* v, const c10::TypePtr& as, std::vector<ir::Value*>& out, const jit::Node* where);
  /// The leaves of an output of the graph (`v`, or for an element of a
  /// constant tuple, null): tuples flattened, None dropped.
  void outputLeaves(const jit::Value* v, const Slot& s, std::vector<ir::Value*>& out, const jit::Node* ret);
  Slot unflatten(const c10::TypePtr& t, const std::vector<ir::Value*>& leaves, size_t& pos) const;
  void leafTypes(const c10::TypePtr& t, std::vector<ir::Type>& out, const jit::Node* where) const;
  ir::Value* placeholder(const c10::TypePtr& t, const jit::Node* where);
  Slot placeholderSlot(const c10::TypePtr& t, const jit::Node* where);

  // Roots that control flow writes (tensors, and lists it appends to, as
  // Rows: ListLowering.cpp) as the IR values a loop carries or an if yields.
  void rootLeaves(const jit::Value* root, std::vector<ir::Value*>& out, const jit::Node* where, ir::Value* tripHint);
  void rebindRoot(const jit::Value* root, const std::vector<ir::Value*>& leaves, size_t& pos);
  /// The loop's trip count when it is known before the loop: its max trip,
  /// or the `n` of `for i in range(n)` with a `break`; else null.
  ir::Value* tripBound(const jit::Node* loop);

  // Views: recomputing a view from its base, and writing back into the base.
  ir::Value* recomputeView(const jit::Node* viewNode, ir::Value* base);
  ir::Value* scatterInto(const jit::Node* viewNode, ir::Value* base, ir::Value* src);

  struct ViewInfo {
    const jit::Node* node;
    const jit::Value* base;
    const jit::Value* root;
    int64_t rootVersion;
  };

  ir::Program& program_;
  const FrontendOptions& options_;
  ir::Builder b_;
  std::unordered_map<const jit::Value*, Slot> env_;
  std::unordered_map<const jit::Value*, const jit::Value*> aliases_;
  std::unordered_map<const jit::Value*, ViewInfo> views_;
  std::unordered_map<const jit::Value*, int64_t> rootVersion_;
  int64_t versionCounter_ = 0;
  std::unordered_map<const jit::Node*, std::vector<const jit::Value*>> mutatedRoots_;
  std::map<std::string, int> weightCount_;
  std::vector<Fallback> fallbacks_;
  const jit::Node* current_ = nullptr;  // the node being translated, for errors
};

/// The IR dtype of a LibTorch scalar type; nullopt for one the IR lacks.
std::optional<ir::DType> dtypeOf(c10::ScalarType t);

/// True for the aten ops whose result aliases their first input (views).
bool isViewOp(const jit::Node* n);
/// True for ops that write into their first input (`copy_`, `add_`, ...).
bool isInPlaceOp(const jit::Node* n);
/// True for `aten::append` on a list (a write into the list, for control flow).
bool isListAppend(const jit::Node* n);

}  // namespace cocktail::frontend
