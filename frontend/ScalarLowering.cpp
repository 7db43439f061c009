//===- frontend/ScalarLowering.cpp - Numbers, dtypes, strings and raises --------------===//
//
// The scalar side of TorchScript: conversions between numbers and 0-d
// tensors, `x.dtype` kept as a Slot for the casts that read it, constant
// strings (the messages of raises), `range()`'s arithmetic and `is None`.
//
//===----------------------------------------------------------------------===//
#include <string>
#include <unordered_map>
#include <utility>

#include "frontend/Lowering.h"

namespace cocktail::frontend::lowering {

namespace {

void lowerToScalar(Lowering& L) {
  ir::Value* x = L.in(0);
  Type t = L.outType();
  if (x->type() == t) return L.out(x);
  L.out(L.emit(OpKind::ToScalar, {x}));
}

void lowerToTensor(Lowering& L) {
  // NumToTensor(s) | scalar_tensor(s, dtype, ...) | tensor(s, dtype, device, requires_grad)
  if (!L.isTensor(0) && L.slotOf(0).kind != Slot::Kind::Value) throw NotLowered{"tensor() of a list"};
  std::string name = L.node()->kind().toQualString();
  ir::Value* s = L.in(0);
  Attributes a;
  ir::Value* like = nullptr;
  if (L.numInputs() > 1) {
    const Slot& d = L.slotOf(1);
    if (d.kind == Slot::Kind::DTypeOf)
      like = d.value;  // x[i] = 0.5 makes tensor(0.5, dtype=x.dtype)
    else if (auto dt = L.cdtype(1))
      a.set("dtype", *dt);
  }
  // Without a dtype, torch.tensor(2.5) and torch.scalar_tensor(n) are the
  // default dtype (f32); NumToTensor keeps the scalar's own type.
  if (!like && !a.has("dtype") && name != "prim::NumToTensor" && s->type().isScalar() &&
      (name == "aten::scalar_tensor" || s->type().dtype() == DType::F64))
    a.set("dtype", DType::F32);
  ir::Value* t = L.emitTyped(OpKind::ToTensor, {s}, Type::unknownTensor(), std::move(a));
  L.out(like ? L.emit(OpKind::CastLike, {t, like}) : t);
}

void lowerDTypeOf(Lowering& L) {
  Slot s;
  s.kind = Slot::Kind::DTypeOf;
  s.value = L.in(0);
  L.outSlot(s);
}

/// aten::format: keeps the template (the message of a raise); arguments are
/// not rendered.
void lowerFormat(Lowering& L) {
  const Slot& f = L.slotOf(0);
  if (f.kind != Slot::Kind::String) throw NotLowered{"a format string that is not a constant"};
  Slot s = f;
  L.outSlot(s);
}

void lowerRaise(Lowering& L) {
  std::string message = "the model raised an exception";
  if (L.numInputs() > 0 && L.slotOf(0).kind == Slot::Kind::String) message = L.slotOf(0).str;
  L.b().create(OpKind::Raise, {}, {}, attrs({{"message", message}}));
}

}  // namespace

void emitRaiseIf(ir::Builder& b, ir::Value* cond, const std::string& message) {
  ir::Op* check = b.create(OpKind::If, {cond}, {});
  ir::Builder raise(check->addRegion());
  raise.setLoc(b.loc());
  raise.create(OpKind::Raise, {}, {}, attrs({{"message", message}}));
  raise.create(OpKind::Yield, {}, {});
  ir::Builder(check->addRegion()).create(OpKind::Yield, {}, {});
}

namespace {

void lowerRangeLength(Lowering& L) {
  // __range_length(lo, hi, step) = max(0, ceil((hi - lo) / step))
  int64_t step = L.cint(2, "step");
  if (step == 0) L.t().fail(L.node(), "range() step must not be zero");
  Type i64 = Type::scalar(DType::I64);
  auto& b = L.b();
  ir::Value* span =
      step > 0 ? b.create1(OpKind::Sub, {L.in(1), L.in(0)}, i64) : b.create1(OpKind::Sub, {L.in(0), L.in(1)}, i64);
  int64_t s = step > 0 ? step : -step;
  ir::Value* padded = b.create1(OpKind::Add, {span, b.constantInt(s - 1)}, i64);
  ir::Value* n = b.create1(OpKind::FloorDiv, {padded, b.constantInt(s)}, i64);
  L.out(b.create1(OpKind::Maximum, {n, b.constantInt(0)}, i64));
}

void lowerDeriveIndex(Lowering& L) {
  // __derive_index(i, start, step) = start + i * step
  Type i64 = Type::scalar(DType::I64);
  ir::Value* scaled = L.b().create1(OpKind::Mul, {L.in(0), L.in(2)}, i64);
  L.out(L.b().create1(OpKind::Add, {L.in(1), scaled}, i64));
}

void lowerIs(Lowering& L, bool negate) {
  // An Optional carried through control flow against None: its flag.
  for (size_t i = 0; i < 2; ++i) {
    if (L.slotOf(i).kind == Slot::Kind::Optional && (L.isNone(1 - i) || L.slotOf(1 - i).kind == Slot::Kind::None)) {
      ir::Value* isNone = L.slotOf(i).isNone;
      return L.out(negate ? L.emitTyped(OpKind::Not, {isNone}, Type::scalar(DType::I1)) : isNone);
    }
  }
  bool aNone = L.isNone(0) || L.slotOf(0).kind == Slot::Kind::None;
  bool bNone = L.isNone(1) || L.slotOf(1).kind == Slot::Kind::None;
  if (!aNone && !bNone) throw NotLowered{"identity comparison of two values"};
  L.out(L.b().constantBool((aNone && bNone) != negate));
}

}  // namespace

void addScalarLowerings(std::unordered_map<std::string, LowerFn>& table) {
  const std::pair<const char*, LowerFn> entries[] = {
      {"aten::Int", lowerToScalar},
      {"aten::Float", lowerToScalar},
      {"aten::Bool", lowerToScalar},
      {"aten::item", lowerToScalar},
      {"aten::ScalarImplicit", lowerToScalar},
      {"prim::NumToTensor", lowerToTensor},
      {"aten::scalar_tensor", lowerToTensor},
      {"aten::tensor", lowerToTensor},
      {"prim::dtype", lowerDTypeOf},
      {"aten::format", lowerFormat},
      {"prim::RaiseException", lowerRaise},
      {"aten::__range_length", lowerRangeLength},
      {"aten::__derive_index", lowerDeriveIndex},
      {"aten::__is__", [](Lowering& L) { lowerIs(L, false); }},
      {"aten::__isnot__", [](Lowering& L) { lowerIs(L, true); }},
  };
  for (const auto& [name, lower] : entries) table.emplace(name, lower);
}

}  // namespace cocktail::frontend::lowering
