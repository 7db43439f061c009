//===- frontend/EinsumLowering.cpp - torch.einsum as permutes and a matmul ----------===//
//
// The equations that are one (batched) matrix product, as torchvision's
// maxvit_t writes attention ("B G H I D, B G H J D -> B G H I J"), and those
// of one operand (a permutation, sums). Each letter of two operands is
//   batch     in both and in the output,
//   contract  in both, not in the output,
//   left      in the first only, right in the second only (and in the output),
// and a letter of one operand that is nowhere else is summed out first. Then
//   A -> [batch.., left.., contract..] -> reshape [batch.., L, K]
//   B -> [batch.., contract.., right..] -> reshape [batch.., K, R]
//   matmul -> [batch.., L, R] -> reshape [batch.., left.., right..] -> output order
// with each permute and reshape left out where it changes nothing. Ellipses,
// repeated letters in one operand (diagonals) and three or more operands are
// refused, naming the equation.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <cctype>
#include <numeric>

#include "frontend/Lowering.h"

namespace cocktail::frontend::lowering {

namespace {

Type tensorT() { return Type::unknownTensor(); }
Type i64() { return Type::scalar(DType::I64); }

struct Equation {
  std::vector<std::string> inputs;
  std::string output;
};

Equation parse(const std::string& text, size_t numOperands) {
  auto refuse = [&](const std::string& why) { return NotLowered{fmt::format("einsum \"{}\": {}", text, why)}; };
  std::string s;
  for (char c : text)
    if (c != ' ') s += c;
  if (s.find('.') != std::string::npos) throw refuse("ellipses ('...') are not supported");
  Equation eq;
  const size_t arrow = s.find("->");
  std::string lhs = arrow == std::string::npos ? s : s.substr(0, arrow);
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    eq.inputs.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (eq.inputs.size() != numOperands)
    throw refuse(fmt::format("it names {} operands, but {} are given", eq.inputs.size(), numOperands));
  if (numOperands > 2) throw refuse("only equations of one or two operands are supported");
  std::string all;
  for (const std::string& in : eq.inputs) {
    for (char c : in) {
      if (!std::isalpha(static_cast<unsigned char>(c))) throw refuse(fmt::format("'{}' is not a subscript letter", c));
      if (std::count(in.begin(), in.end(), c) > 1)
        throw refuse(fmt::format("letter '{}' repeats in one operand (a diagonal), which is not supported", c));
    }
    all += in;
  }
  if (arrow == std::string::npos) {
    // Implicit output: the letters that appear once, in alphabetical order.
    for (char c : all)
      if (std::count(all.begin(), all.end(), c) == 1) eq.output += c;
    std::sort(eq.output.begin(), eq.output.end());
  } else {
    eq.output = s.substr(arrow + 2);
    for (char c : eq.output) {
      if (all.find(c) == std::string::npos) throw refuse(fmt::format("output letter '{}' is in no operand", c));
      if (std::count(eq.output.begin(), eq.output.end(), c) > 1)
        throw refuse(fmt::format("output letter '{}' repeats", c));
    }
  }
  return eq;
}

bool has(const std::string& s, char c) { return s.find(c) != std::string::npos; }

class EinsumLowering {
 public:
  explicit EinsumLowering(ir::Builder& b) : b_(b) {}

  /// x (letters `from`) permuted to the order of `to`, a permutation of them.
  ir::Value* permute(ir::Value* x, const std::string& from, const std::string& to) {
    std::vector<int64_t> dims;
    for (char c : to) dims.push_back(static_cast<int64_t>(from.find(c)));
    std::vector<int64_t> identity(dims.size());
    std::iota(identity.begin(), identity.end(), 0);
    if (dims == identity) return x;
    return b_.create1(OpKind::Permute, {x}, tensorT(), attrs({{"dims", dims}}));
  }

  /// x with the letters `drop` (of `letters`) summed out; `letters` loses them.
  ir::Value* sumOut(ir::Value* x, std::string& letters, const std::string& keep) {
    std::vector<int64_t> dims;
    std::string kept;
    for (size_t i = 0; i < letters.size(); ++i) {
      if (has(keep, letters[i])) kept += letters[i];
      else dims.push_back(static_cast<int64_t>(i));
    }
    if (dims.empty()) return x;
    letters = kept;
    return b_.create1(OpKind::Sum, {x}, tensorT(), attrs({{"dims", dims}, {"keepdim", false}}));
  }

  ir::Value* size(ir::Value* x, size_t dim) {
    return b_.create1(OpKind::Size, {x}, i64(), attrs({{"dim", static_cast<int64_t>(dim)}}));
  }

  /// The product of dims [begin, end) of x (1 for none).
  ir::Value* product(ir::Value* x, size_t begin, size_t end) {
    ir::Value* p = nullptr;
    for (size_t d = begin; d < end; ++d) p = p ? b_.create1(OpKind::Mul, {p, size(x, d)}, i64()) : size(x, d);
    return p ? p : b_.constantInt(1);
  }

  ir::Value* reshape(ir::Value* x, std::vector<ir::Value*> sizes) {
    sizes.insert(sizes.begin(), x);
    return b_.create1(OpKind::Reshape, sizes, tensorT());
  }

  ir::Value* lower(const Equation& eq, std::vector<ir::Value*> xs) {
    std::string a = eq.inputs[0];
    if (xs.size() == 1) {
      ir::Value* x = sumOut(xs[0], a, eq.output);
      return permute(x, a, eq.output);
    }
    std::string bl = eq.inputs[1];
    ir::Value* x = sumOut(xs[0], a, bl + eq.output);
    ir::Value* y = sumOut(xs[1], bl, a + eq.output);
    // Batch letters in the output's order, the others in their operand's
    // (the last permute puts them in the output's).
    std::string batch, left, contract, right;
    for (char c : eq.output)
      if (has(a, c) && has(bl, c)) batch += c;
    for (char c : a) {
      if (!has(bl, c)) left += c;
      else if (!has(eq.output, c)) contract += c;
    }
    for (char c : bl)
      if (!has(a, c)) right += c;
    const size_t nb = batch.size();
    x = permute(x, a, batch + left + contract);
    y = permute(y, bl, batch + contract + right);
    std::vector<ir::Value*> batchX, batchY;
    for (size_t d = 0; d < nb; ++d) batchX.push_back(size(x, d)), batchY.push_back(size(y, d));
    const bool reshapeX = left.size() != 1 || contract.size() != 1;
    const bool reshapeY = contract.size() != 1 || right.size() != 1;
    std::vector<ir::Value*> leftSizes, rightSizes;
    for (size_t d = 0; d < left.size(); ++d) leftSizes.push_back(size(x, nb + d));
    for (size_t d = 0; d < right.size(); ++d) rightSizes.push_back(size(y, nb + contract.size() + d));
    if (reshapeX) {
      std::vector<ir::Value*> s = batchX;
      s.push_back(product(x, nb, nb + left.size()));
      s.push_back(product(x, nb + left.size(), nb + left.size() + contract.size()));
      x = reshape(x, s);
    }
    if (reshapeY) {
      std::vector<ir::Value*> s = batchY;
      s.push_back(product(y, nb, nb + contract.size()));
      s.push_back(product(y, nb + contract.size(), nb + contract.size() + right.size()));
      y = reshape(y, s);
    }
    ir::Value* z = b_.create1(OpKind::Matmul, {x, y}, tensorT());
    if (left.size() != 1 || right.size() != 1) {
      // The batch dims as the product broadcast them.
      std::vector<ir::Value*> s;
      for (size_t d = 0; d < nb; ++d) s.push_back(size(z, d));
      s.insert(s.end(), leftSizes.begin(), leftSizes.end());
      s.insert(s.end(), rightSizes.begin(), rightSizes.end());
      z = reshape(z, s);
    }
    return permute(z, batch + left + right, eq.output);
  }

 private:
  ir::Builder& b_;
};

}  // namespace

void lowerEinsum(Lowering& L) {
  const Slot& text = L.slotOf(0);
  if (text.kind != Slot::Kind::String) throw NotLowered{"its equation must be a constant string"};
  std::vector<ir::Value*> xs = L.listValues(1);
  const Equation eq = parse(text.str, xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const Type& t = xs[i]->type();
    if (t.isTensor() && t.hasRank() && t.rank() != static_cast<int64_t>(eq.inputs[i].size()))
      L.t().fail(L.node(), fmt::format("einsum \"{}\": operand {} has {} dims, its subscripts name {}", text.str, i,
                                       t.rank(), eq.inputs[i].size()));
  }
  L.out(EinsumLowering(L.b()).lower(eq, xs));
}

}  // namespace cocktail::frontend::lowering
