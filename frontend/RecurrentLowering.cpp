//===- frontend/RecurrentLowering.cpp - nn.LSTM, nn.GRU, nn.RNN and the cells ----------===//
//
// `aten::lstm`, `aten::gru`, `aten::rnn_tanh`, `aten::rnn_relu` and their
// cells become IR loops over time whose bodies are linear layers, chunks and
// elementwise gates, so the scheduler sees the recurrence as it sees the
// suite's hand-written LSTM (one persistent region per time loop), never an
// opaque call. Layers are unrolled at compile time (their weights differ in
// shape) and run one after the other, as ATen runs them: each layer is its
// own time loop over the whole output sequence of the layer below, and each
// direction of a bidirectional layer its own loop (the backward one reads
// step T-1-t). That order lets batch-steps compute every layer's input
// projection for all steps at once, and keeps a loop's weights in cache
// across its steps.
// On a packed sequence (the `.data` overloads, frontend/PackedSequenceLowering.cpp)
// the loops run over the padded batch with a mask: at step t a row whose
// length is at most t keeps its state and outputs zero, so each row's final
// state is its state at its last step, and the backward direction starts each
// row at its own last step from the initial state.
// The gate formulas are ATen's (aten/src/ATen/native/RNN.cpp).
//
//===----------------------------------------------------------------------===//
#include <fmt/format.h>

#include "frontend/Lowering.h"

namespace cocktail::frontend::lowering {

namespace {

enum class Cell { Lstm, Gru, RnnTanh, RnnRelu };

const char* cellName(Cell c) {
  switch (c) {
    case Cell::Lstm: return "lstm";
    case Cell::Gru: return "gru";
    case Cell::RnnTanh: return "rnn_tanh";
    case Cell::RnnRelu: return "rnn_relu";
  }
  return "?";
}

int64_t gateCount(Cell c) { return c == Cell::Lstm ? 4 : c == Cell::Gru ? 3 : 1; }

/// One direction of one layer.
struct CellWeights {
  ir::Value* wIh = nullptr;
  ir::Value* wHh = nullptr;
  ir::Value* bIh = nullptr;  // may be absent (bias=False)
  ir::Value* bHh = nullptr;
  ir::Value* wHr = nullptr;  // LSTM proj_size > 0
};

/// A recurrent state: h, and c for an LSTM.
struct State {
  ir::Value* h = nullptr;
  ir::Value* c = nullptr;
};

Type tensorT() { return Type::unknownTensor(); }
Type i64() { return Type::scalar(DType::I64); }

class CellEmitter {
 public:
  CellEmitter(ir::Builder& b, Cell cell) : b_(b), cell_(cell) {}

  ir::Value* linear(ir::Value* x, ir::Value* w, ir::Value* bias) {
    std::vector<ir::Value*> ops = {x, w};
    if (bias) ops.push_back(bias);
    return b_.create1(OpKind::Linear, ops, tensorT());
  }
  ir::Value* un(OpKind k, ir::Value* x) { return b_.create1(k, {x}, tensorT()); }
  ir::Value* bin(OpKind k, ir::Value* x, ir::Value* y) { return b_.create1(k, {x, y}, tensorT()); }
  std::vector<ir::Value*> chunk(ir::Value* x, int64_t n) {
    ir::Op* op = b_.create(OpKind::Chunk, {x}, std::vector<Type>(static_cast<size_t>(n), tensorT()),
                           attrs({{"chunks", n}, {"dim", int64_t{1}}}));
    std::vector<ir::Value*> out;
    for (size_t i = 0; i < op->numResults(); ++i) out.push_back(op->result(i));
    return out;
  }

  /// One step of the cell: ATen's LSTMCell / GRUCell / SimpleCell.
  State step(const CellWeights& w, ir::Value* x, const State& s) {
    switch (cell_) {
      case Cell::Lstm: {
        ir::Value* gates = bin(OpKind::Add, linear(x, w.wIh, w.bIh), linear(s.h, w.wHh, w.bHh));
        auto g = chunk(gates, 4);
        ir::Value* in = un(OpKind::Sigmoid, g[0]);
        ir::Value* forget = un(OpKind::Sigmoid, g[1]);
        ir::Value* cellGate = un(OpKind::Tanh, g[2]);
        ir::Value* out = un(OpKind::Sigmoid, g[3]);
        ir::Value* c = bin(OpKind::Add, bin(OpKind::Mul, forget, s.c), bin(OpKind::Mul, in, cellGate));
        ir::Value* h = bin(OpKind::Mul, out, un(OpKind::Tanh, c));
        if (w.wHr) h = linear(h, w.wHr, nullptr);
        return {h, c};
      }
      case Cell::Gru: {
        auto gi = chunk(linear(x, w.wIh, w.bIh), 3);
        auto gh = chunk(linear(s.h, w.wHh, w.bHh), 3);
        ir::Value* reset = un(OpKind::Sigmoid, bin(OpKind::Add, gi[0], gh[0]));
        ir::Value* update = un(OpKind::Sigmoid, bin(OpKind::Add, gi[1], gh[1]));
        ir::Value* fresh = un(OpKind::Tanh, bin(OpKind::Add, gi[2], bin(OpKind::Mul, gh[2], reset)));
        // (h - n) * z + n, as ATen writes (1 - z) * n + z * h.
        return {bin(OpKind::Add, bin(OpKind::Mul, bin(OpKind::Sub, s.h, fresh), update), fresh), nullptr};
      }
      case Cell::RnnTanh:
      case Cell::RnnRelu: {
        ir::Value* pre = bin(OpKind::Add, linear(s.h, w.wHh, w.bHh), linear(x, w.wIh, w.bIh));
        return {un(cell_ == Cell::RnnTanh ? OpKind::Tanh : OpKind::Relu, pre), nullptr};
      }
    }
    return {};
  }

 private:
  ir::Builder& b_;
  Cell cell_;
};

/// One chain of layers run in one direction inside a time loop.
struct Stream {
  bool reverse = false;
  std::vector<CellWeights> layers;
  std::vector<State> initial;
  int64_t outSize = 0;  // feature size of the chain's last layer
  // Filled by emitTimeLoop:
  std::vector<State> final;
  ir::Value* output = nullptr;  // [T, B, outSize]
};

/// for t in range(T): each stream steps its layers on x[t] (x[T-1-t] when
/// reversed) and writes its top layer's h into its output buffer. With a
/// `padding` mask [T, B, 1], rows padded at a step keep their state and
/// output zero there.
void emitTimeLoop(Lowering& L, Cell cell, ir::Value* x, ir::Value* padding, ir::Value* steps, ir::Value* batch,
                  DType dtype, std::vector<Stream>& streams) {
  ir::Builder& b = L.b();
  bool lstm = cell == Cell::Lstm;
  std::vector<ir::Value*> carried;
  for (Stream& s : streams) {
    for (const State& st : s.initial) {
      carried.push_back(st.h);
      if (lstm) carried.push_back(st.c);
    }
    carried.push_back(b.create1(OpKind::Full, {b.constantInt(0), steps, batch, b.constantInt(s.outSize)}, tensorT(),
                                attrs({{"dtype", dtype}})));
  }
  std::vector<ir::Value*> operands = {steps, b.constantBool(true)};
  operands.insert(operands.end(), carried.begin(), carried.end());
  std::vector<Type> types(carried.size(), tensorT());
  ir::Op* loop = b.create(OpKind::Loop, operands, types);
  ir::Builder outer = b;

  ir::Region& body = loop->addRegion();
  b.setInsertionPointToEnd(body);
  ir::Value* t = body.addArgument(i64(), "t");
  std::vector<ir::Value*> args;
  for (size_t i = 0; i < carried.size(); ++i) args.push_back(body.addArgument(tensorT()));
  ir::Value* last = nullptr;
  CellEmitter e(b, cell);
  std::vector<ir::Value*> yields = {b.constantBool(true)};
  size_t pos = 0;
  for (Stream& s : streams) {
    ir::Value* index = t;
    if (s.reverse) {
      if (!last) last = b.create1(OpKind::Sub, {steps, b.constantInt(1)}, i64());
      index = b.create1(OpKind::Sub, {last, t}, i64());
    }
    ir::Value* in = b.create1(OpKind::Select, {x, index}, tensorT(), attrs({{"dim", int64_t{0}}}));
    ir::Value* padded = padding ? b.create1(OpKind::Select, {padding, index}, tensorT(), attrs({{"dim", int64_t{0}}}))
                                : nullptr;  // [B, 1]
    for (const CellWeights& w : s.layers) {
      State prev{args[pos], lstm ? args[pos + 1] : nullptr};
      State next = e.step(w, in, prev);
      in = next.h;
      if (padded) {
        auto keep = [&](ir::Value* old, ir::Value* fresh) {
          return b.create1(OpKind::Where, {padded, old, fresh}, tensorT());
        };
        in = b.create1(OpKind::MaskedFill, {next.h, padded, b.constantFloat(0)}, tensorT());
        next = State{keep(prev.h, next.h), lstm ? keep(prev.c, next.c) : nullptr};
      }
      yields.push_back(next.h);
      if (lstm) yields.push_back(next.c);
      pos += lstm ? 2 : 1;
    }
    yields.push_back(b.create1(OpKind::SelectScatter, {args[pos++], in, index}, tensorT(), attrs({{"dim", int64_t{0}}})));
  }
  b.create(OpKind::Yield, yields, {});
  b = outer;

  pos = 0;
  for (Stream& s : streams) {
    s.final.clear();
    for (size_t l = 0; l < s.layers.size(); ++l) {
      State st{loop->result(pos), lstm ? loop->result(pos + 1) : nullptr};
      pos += lstm ? 2 : 1;
      s.final.push_back(st);
    }
    s.output = loop->result(pos++);
  }
}

ir::Value* selectAt(Lowering& L, ir::Value* x, int64_t i) {
  return L.b().create1(OpKind::Select, {x, L.b().constantInt(i)}, tensorT(), attrs({{"dim", int64_t{0}}}));
}

/// h_n: the final states [B, H] of every layer and direction as
/// [layers * dirs, B, H], through unsqueeze and cat (which every target has).
ir::Value* stackStates(ir::Builder& b, const std::vector<ir::Value*>& states) {
  std::vector<ir::Value*> rows;
  for (ir::Value* s : states) rows.push_back(b.create1(OpKind::Unsqueeze, {s}, tensorT(), attrs({{"dim", int64_t{0}}})));
  if (rows.size() == 1) return rows[0];
  return b.create1(OpKind::Cat, rows, tensorT(), attrs({{"dim", int64_t{0}}}));
}

/// aten::lstm.input(input, hx[], params[], has_biases, num_layers, dropout, train, bidirectional, batch_first)
/// aten::gru.input / rnn_tanh.input / rnn_relu.input(input, hx, params[], ...same)
/// aten::lstm.data(data, batch_sizes, hx[], params[], has_biases, num_layers, dropout, train, bidirectional)
/// and gru.data / ...: a packed sequence in and out (time-major, no batch_first).
void lowerRecurrent(Lowering& L, Cell cell) {
  const std::string overload = L.overload();
  if (overload != "input" && overload != "data")
    throw NotLowered{fmt::format("overload {} is not supported", overload)};
  std::optional<PackedBatch> packed;
  if (overload == "data") {
    packed = packedBatchOf(L, 0);
    if (!packed) throw NotLowered{"its packed sequence is not one that pack_padded_sequence made"};
  }
  const size_t at = packed ? 1 : 0;  // the data overload has batch_sizes after the input
  bool lstm = cell == Cell::Lstm;
  bool hasBiases = L.cbool(at + 3, "has_biases");
  int64_t layers = L.cint(at + 4, "num_layers");
  double dropout = L.cdouble(at + 5, "dropout");
  bool train = L.cbool(at + 6, "train flag");
  bool bidirectional = L.cbool(at + 7, "bidirectional flag");
  bool batchFirst = !packed && L.cbool(8, "batch_first flag");
  if (train && dropout > 0) throw NotLowered{"dropout between layers in training mode"};
  if (layers < 1) throw NotLowered{"num_layers must be at least 1"};
  int64_t dirs = bidirectional ? 2 : 1;

  std::vector<ir::Value*> params = L.listValues(at + 2);
  int64_t groups = layers * dirs;
  int64_t perGroup = static_cast<int64_t>(params.size()) / groups;
  int64_t base = hasBiases ? 4 : 2;
  bool proj = lstm && perGroup == base + 1;
  if (static_cast<int64_t>(params.size()) % groups != 0 || (perGroup != base && !proj))
    throw NotLowered{fmt::format("{} weights for {} layers x {} directions do not match has_biases={}", params.size(),
                                 layers, dirs, hasBiases)};
  auto weightsOf = [&](int64_t group) {
    size_t at = static_cast<size_t>(group * perGroup);
    CellWeights w{params[at], params[at + 1]};
    if (hasBiases) w.bIh = params[at + 2], w.bHh = params[at + 3];
    if (proj) w.wHr = params[at + static_cast<size_t>(base)];
    return w;
  };

  // Initial states [layers * dirs, B, H]: hx is [h0, c0] for an LSTM.
  ir::Value* h0;
  ir::Value* c0 = nullptr;
  if (lstm) {
    std::vector<ir::Value*> hx = L.listValues(at + 1);
    if (hx.size() != 2) throw NotLowered{"an LSTM's hx must be (h0, c0)"};
    h0 = hx[0], c0 = hx[1];
  } else {
    h0 = L.in(at + 1);
  }
  auto initialOf = [&](int64_t group) {
    return State{selectAt(L, h0, group), lstm ? selectAt(L, c0, group) : nullptr};
  };
  // Feature sizes come from the weights: w_hh is [gates * H, H], w_hr [P, H].
  auto outSizeOf = [&](const CellWeights& w) -> int64_t {
    ir::Value* last = w.wHr ? w.wHr : w.wHh;
    const Type& t = last->type();
    if (!t.hasRank() || t.rank() != 2 || !t.dims()[0].isConstant())
      throw NotLowered{"its weights must be constant tensors (a frozen module)"};
    return w.wHr ? t.dims()[0].value() : t.dims()[0].value() / gateCount(cell);
  };

  // Check every weight before emitting anything (NotLowered leaves no IR behind).
  for (int64_t g = 0; g < groups; ++g) outSizeOf(weightsOf(g));

  ir::Builder& b = L.b();
  // The outputs have the weights' dtype (PyTorch requires the input's to match).
  DType dtype = weightsOf(0).wHh->type().dtype();
  ir::Value* x = packed ? packed->padded : L.in(0);
  ir::Value* padding = packed ? packed->padding : nullptr;
  if (batchFirst) x = b.create1(OpKind::Transpose, {x}, tensorT(), attrs({{"dim0", int64_t{0}}, {"dim1", int64_t{1}}}));
  ir::Value* steps = b.create1(OpKind::Size, {x, b.constantInt(0)}, i64());
  ir::Value* batch = b.create1(OpKind::Size, {x, b.constantInt(1)}, i64());

  // Layer by layer, as ATen runs them: each layer's time loop reads the
  // whole output sequence of the layer below, so batch-steps computes its
  // input projection for every step at once, and its weights stay in cache
  // across the steps.
  std::vector<State> finals(static_cast<size_t>(groups));
  for (int64_t l = 0; l < layers; ++l) {
    std::vector<Stream> streams(static_cast<size_t>(dirs));
    for (int64_t d = 0; d < dirs; ++d) {
      Stream& s = streams[static_cast<size_t>(d)];
      s.reverse = d == 1;
      s.layers.push_back(weightsOf(l * dirs + d));
      s.initial.push_back(initialOf(l * dirs + d));
      s.outSize = outSizeOf(s.layers.back());
    }
    // One time loop per direction: the two directions' recurrent weights
    // together can outgrow a core's L2 (2 x 768 KB for a 256-wide GRU), and
    // alternating between them each step would stream both from L3.
    for (Stream& s : streams) {
      std::vector<Stream> one(1);
      one[0] = std::move(s);
      emitTimeLoop(L, cell, x, padding, steps, batch, dtype, one);
      s = std::move(one[0]);
    }
    for (int64_t d = 0; d < dirs; ++d) finals[static_cast<size_t>(l * dirs + d)] = streams[static_cast<size_t>(d)].final[0];
    x = bidirectional ? b.create1(OpKind::Cat, {streams[0].output, streams[1].output}, tensorT(), attrs({{"dim", int64_t{2}}}))
                      : streams[0].output;
  }
  if (batchFirst) x = b.create1(OpKind::Transpose, {x}, tensorT(), attrs({{"dim0", int64_t{0}}, {"dim1", int64_t{1}}}));
  if (packed)
    outPacked(L, PackedBatch{x, packed->lengths, padding}, 0);
  else
    L.out(x, 0);
  std::vector<ir::Value*> hs, cs;
  for (const State& s : finals) {
    hs.push_back(s.h);
    if (lstm) cs.push_back(s.c);
  }
  L.out(stackStates(b, hs), 1);
  if (lstm) L.out(stackStates(b, cs), 2);
}

/// aten::lstm_cell(input, hx[h, c], w_ih, w_hh, b_ih?, b_hh?) -> (h, c);
/// gru_cell / rnn_tanh_cell / rnn_relu_cell(input, hx, w_ih, w_hh, b_ih?, b_hh?) -> h.
void lowerRecurrentCell(Lowering& L, Cell cell) {
  CellWeights w{L.in(2), L.in(3)};
  if (L.numInputs() > 4 && !L.isNone(4)) w.bIh = L.in(4);
  if (L.numInputs() > 5 && !L.isNone(5)) w.bHh = L.in(5);
  State s;
  if (cell == Cell::Lstm) {
    std::vector<ir::Value*> hx = L.listValues(1);
    if (hx.size() != 2) throw NotLowered{"an LSTM cell's hx must be (h, c)"};
    s = {hx[0], hx[1]};
  } else {
    s.h = L.in(1);
  }
  CellEmitter e(L.b(), cell);
  State next = e.step(w, L.in(0), s);
  L.out(next.h, 0);
  if (cell == Cell::Lstm) L.out(next.c, 1);
}

}  // namespace

void addRecurrentLowerings(std::unordered_map<std::string, LowerFn>& table) {
  for (Cell c : {Cell::Lstm, Cell::Gru, Cell::RnnTanh, Cell::RnnRelu}) {
    table[fmt::format("aten::{}", cellName(c))] = [c](Lowering& L) { lowerRecurrent(L, c); };
    table[fmt::format("aten::{}_cell", cellName(c))] = [c](Lowering& L) { lowerRecurrentCell(L, c); };
  }
}

}  // namespace cocktail::frontend::lowering
