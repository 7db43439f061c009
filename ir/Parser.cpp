//===- ir/Parser.cpp - Text → Program -----------------------------------------===//
//
// A hand-written lexer and recursive-descent parser for the grammar in
// Parser.h. It is fed untrusted text (and fuzzed), so every path checks its
// input: no asserts on the text, a bound on region nesting so that deep
// input cannot exhaust the stack, and the first error ends the parse.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace cocktail::ir {
namespace {

enum class Tok : uint8_t {
  Eof,
  Error,
  Ident,
  ValueName,
  AtName,
  Int,
  Float,
  String,
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Equal,
  Caret,
  LessEqual,
  Arrow,
  Question,
  Star
};

struct Token {
  Tok kind = Tok::Eof;
  std::string_view text;  // as written
  int64_t line = 1;
  int64_t col = 1;
  std::string str;  // decoded: string contents, a value name without '%', an error message
  int64_t i = 0;
  double d = 0;
};

bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }
bool isNameChar(char c) { return isIdentChar(c) || c == '.' || c == '$' || c == '-'; }

/// Splits the text into tokens; a copy of it is a cheap lookahead.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token next() {
    skipSpaceAndComments();
    Token t;
    t.line = line_;
    t.col = static_cast<int64_t>(pos_ - lineStart_) + 1;
    size_t start = pos_;
    if (pos_ >= text_.size()) return t;
    char c = text_[pos_];
    auto single = [&](Tok k) {
      ++pos_;
      t.kind = k;
      t.text = text_.substr(start, 1);
      return t;
    };
    switch (c) {
      case '(':
        return single(Tok::LParen);
      case ')':
        return single(Tok::RParen);
      case '{':
        return single(Tok::LBrace);
      case '}':
        return single(Tok::RBrace);
      case '[':
        return single(Tok::LBracket);
      case ']':
        return single(Tok::RBracket);
      case ',':
        return single(Tok::Comma);
      case ':':
        return single(Tok::Colon);
      case '=':
        return single(Tok::Equal);
      case '^':
        return single(Tok::Caret);
      case '?':
        return single(Tok::Question);
      case '*':
        return single(Tok::Star);
      default:
        break;
    }
    if (c == '<' && peekChar(1) == '=') {
      pos_ += 2;
      t.kind = Tok::LessEqual;
      t.text = text_.substr(start, 2);
      return t;
    }
    if (c == '-' && peekChar(1) == '>') {
      pos_ += 2;
      t.kind = Tok::Arrow;
      t.text = text_.substr(start, 2);
      return t;
    }
    if (c == '"') return lexString(t, start, Tok::String);
    if (c == '%' || c == '@') {
      ++pos_;
      if (c == '@' && peekChar(0) == '"') {
        t = lexString(t, pos_, Tok::AtName);
        t.text = text_.substr(start, pos_ - start);
        return t;
      }
      while (pos_ < text_.size() && isNameChar(text_[pos_])) ++pos_;
      t.text = text_.substr(start, pos_ - start);
      if (t.text.size() == 1) return error(t, fmt::format("expected a name after '{}'", c));
      t.kind = c == '%' ? Tok::ValueName : Tok::AtName;
      t.str = std::string(t.text.substr(1));
      return t;
    }
    if (isDigit(c) || (c == '-' && isDigit(peekChar(1)))) return lexNumber(t, start);
    if (c == '-' && text_.substr(pos_, 4) == "-inf" && !isIdentChar(peekChar(4))) {
      pos_ += 4;
      t.kind = Tok::Float;
      t.text = text_.substr(start, 4);
      t.d = -std::numeric_limits<double>::infinity();
      return t;
    }
    if (isIdentStart(c)) {
      while (pos_ < text_.size() && isIdentChar(text_[pos_])) ++pos_;
      t.kind = Tok::Ident;
      t.text = text_.substr(start, pos_ - start);
      return t;
    }
    ++pos_;
    t.text = text_.substr(start, 1);
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return error(t, fmt::format("unexpected character 0x{:02x}", u));
    return error(t, fmt::format("unexpected character '{}'", c));
  }

 private:
  char peekChar(size_t ahead) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  static Token error(Token t, std::string message) {
    t.kind = Tok::Error;
    t.str = std::move(message);
    return t;
  }

  void skipSpaceAndComments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\n') {
        ++pos_;
        ++line_;
        lineStart_ = pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '/' && peekChar(1) == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  // `pos_` is at the opening quote. Strings do not span lines.
  Token lexString(Token t, size_t start, Tok kind) {
    ++pos_;
    std::string value;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') {
        t.text = text_.substr(start, pos_ - start);
        return error(t, "expected '\"' to end the string, got end of line");
      }
      char c = text_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        value += c;
        continue;
      }
      char e = pos_ < text_.size() ? text_[pos_++] : '\0';
      switch (e) {
        case '"':
          value += '"';
          break;
        case '\\':
          value += '\\';
          break;
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        default:
          t.text = text_.substr(start, pos_ - start);
          return error(t, "expected one of \\\" \\\\ \\n \\t after '\\' in a string");
      }
    }
    t.kind = kind;
    t.text = text_.substr(start, pos_ - start);
    t.str = std::move(value);
    return t;
  }

  Token lexNumber(Token t, size_t start) {
    if (text_[pos_] == '-') ++pos_;
    while (isDigit(peekChar(0))) ++pos_;
    bool isFloat = false;
    if (peekChar(0) == '.') {
      isFloat = true;
      ++pos_;
      while (isDigit(peekChar(0))) ++pos_;
    }
    if ((peekChar(0) == 'e' || peekChar(0) == 'E') &&
        (isDigit(peekChar(1)) || ((peekChar(1) == '+' || peekChar(1) == '-') && isDigit(peekChar(2))))) {
      isFloat = true;
      pos_ += 2;
      while (isDigit(peekChar(0))) ++pos_;
    }
    while (pos_ < text_.size() && isIdentChar(text_[pos_])) ++pos_;  // swallow `12abc` whole for the message
    t.text = text_.substr(start, pos_ - start);
    const char* first = t.text.data();
    const char* last = first + t.text.size();
    if (isFloat) {
      auto [end, ec] = std::from_chars(first, last, t.d);
      if (ec != std::errc() || end != last)
        return error(t, fmt::format("expected a number, got '{}'", t.text));
      t.kind = Tok::Float;
      return t;
    }
    auto [end, ec] = std::from_chars(first, last, t.i);
    if (ec == std::errc::result_out_of_range)
      return error(t, fmt::format("expected a 64-bit integer, got '{}' (out of range)", t.text));
    if (ec != std::errc() || end != last) return error(t, fmt::format("expected a number, got '{}'", t.text));
    t.kind = Tok::Int;
    return t;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
  size_t lineStart_ = 0;
};

bool isLiteralWord(std::string_view w) {
  return w == "true" || w == "false" || w == "nan" || w == "inf" || parseDType(w).has_value();
}

// Deeper nesting than this is certainly not a model, and recursion must stop
// somewhere before the stack does.
constexpr int kMaxRegionDepth = 256;

class Parser {
 public:
  Parser(std::string_view text, std::string_view buffer, SourceMap* sourceMap)
      : lexer_(text), buffer_(buffer), sourceMap_(sourceMap) {
    advance();
  }

  Expected<std::unique_ptr<Program>> run() {
    auto program = std::make_unique<Program>();
    program_ = program.get();
    if (parseProgram()) return program;
    if (error_.ok()) fail(tok_, "expected a valid program");  // not reached; keeps Expected's invariant
    if (sourceMap_) *sourceMap_ = SourceMap{};                // its ops die with `program`
    return error_;
  }

 private:
  // ---- tokens and errors ---------------------------------------------------

  // No rule accepts an Error token, so the lexer's message is the error.
  void advance() {
    tok_ = lexer_.next();
    if (is(Tok::Error)) fail(tok_, tok_.str);
  }
  bool is(Tok k) const { return tok_.kind == k; }
  bool isWord(std::string_view w) const { return tok_.kind == Tok::Ident && tok_.text == w; }
  Token peek(int n) const {
    Lexer copy = lexer_;
    Token t;
    for (int k = 0; k < n; ++k) t = copy.next();
    return t;
  }

  Location locOf(const Token& t) const { return Location{std::string(buffer_), t.line, t.col}; }

  /// Records the first error; always returns false so callers can `return fail(...)`.
  bool fail(const Token& at, std::string message) {
    if (error_.ok()) error_ = Status::error(std::move(message), locOf(at));
    return false;
  }

  static std::string describe(const Token& t) {
    if (t.kind == Tok::Eof) return "end of input";
    std::string_view s = t.text.substr(0, 40);
    return fmt::format("'{}'{}", s, s.size() < t.text.size() ? "..." : "");
  }

  /// "expected X, got Y" at the current token (or the lexer's own message).
  bool expected(std::string_view what) {
    if (is(Tok::Error)) return fail(tok_, tok_.str);
    return fail(tok_, fmt::format("expected {}, got {}", what, describe(tok_)));
  }

  bool consume(Tok k, std::string_view what) {
    if (!is(k)) return expected(what);
    advance();
    return true;
  }

  // ---- names ---------------------------------------------------------------

  /// Checks that `%name` is not taken yet (names are function-wide).
  bool checkNewName(const Token& t, std::unordered_set<std::string>* pending = nullptr) {
    if (values_.count(t.str) || (pending && !pending->insert(t.str).second))
      return fail(t, fmt::format("redefinition of value '%{}'", t.str));
    return true;
  }

  bool parseOperand(std::vector<Value*>& operands) {
    if (!is(Tok::ValueName)) return expected("an operand (%name)");
    auto it = values_.find(tok_.str);
    if (it == values_.end()) return fail(tok_, fmt::format("use of undefined value '%{}'", tok_.str));
    operands.push_back(it->second);
    advance();
    return true;
  }

  // ---- types -----------------------------------------------------------------

  bool parseType(Type& out) {
    if (isWord("tensor")) {
      advance();
      out = Type::unknownTensor();
      return true;
    }
    std::optional<DType> dt = is(Tok::Ident) ? parseDType(tok_.text) : std::nullopt;
    if (!dt) return expected("a type");
    advance();
    if (!is(Tok::LBracket)) {
      out = Type::scalar(*dt);
      return true;
    }
    advance();
    if (is(Tok::Star)) {
      advance();
      out = Type::unrankedTensor(*dt);
      return consume(Tok::RBracket, "']'");
    }
    std::vector<Dim> dims;
    if (!is(Tok::RBracket)) {
      while (true) {
        if (is(Tok::Int)) {  // negative sizes are the verifier's to reject
          dims.push_back(Dim::constant(tok_.i));
        } else if (is(Tok::Ident)) {
          dims.push_back(Dim::symbol(std::string(tok_.text)));
        } else if (is(Tok::Question)) {
          dims.push_back(Dim::unknown());
        } else {
          return expected("a dim (a size, a symbol or '?')");
        }
        advance();
        if (!is(Tok::Comma)) break;
        advance();
      }
    }
    if (!consume(Tok::RBracket, "',' or ']'")) return false;
    out = Type::tensor(*dt, std::move(dims));
    return true;
  }

  bool parseTypeList(std::vector<Type>& out) {
    while (true) {
      Type t = Type::unknownTensor();
      if (!parseType(t)) return false;
      out.push_back(std::move(t));
      if (!is(Tok::Comma)) return true;
      advance();
    }
  }

  // ---- attributes ------------------------------------------------------------

  bool parseAttrValue(AttrValue& out) {
    switch (tok_.kind) {
      case Tok::Int:
        out = tok_.i;
        break;
      case Tok::Float:
        out = tok_.d;
        break;
      case Tok::String:
        out = tok_.str;
        break;
      case Tok::Ident:
        if (tok_.text == "true" || tok_.text == "false")
          out = tok_.text == "true";
        else if (tok_.text == "nan")
          out = std::numeric_limits<double>::quiet_NaN();
        else if (tok_.text == "inf")
          out = std::numeric_limits<double>::infinity();
        else if (auto dt = parseDType(tok_.text))
          out = *dt;
        else
          return expected("an attribute value");
        break;
      case Tok::LBracket: {
        advance();
        std::vector<int64_t> ints;
        if (!is(Tok::RBracket)) {
          while (true) {
            if (!is(Tok::Int)) return expected("an integer");
            ints.push_back(tok_.i);
            advance();
            if (!is(Tok::Comma)) break;
            advance();
          }
        }
        if (!is(Tok::RBracket)) return expected("',' or ']'");
        out = std::move(ints);
        break;
      }
      default:
        return expected("an attribute value");
    }
    advance();
    return true;
  }

  /// `{` starts an attribute dictionary (rather than a region) when followed
  /// by `name =`, or by `}` on the same line.
  bool atAttrDict() const {
    if (!is(Tok::LBrace)) return false;
    Token a = peek(1);
    if (a.kind == Tok::RBrace) return a.line == tok_.line;
    return (a.kind == Tok::Ident || a.kind == Tok::String) && peek(2).kind == Tok::Equal;
  }

  bool parseAttrDict(Attributes& attrs) {
    advance();  // '{'
    if (is(Tok::RBrace)) {
      advance();
      return true;
    }
    while (true) {
      if (!is(Tok::Ident) && !is(Tok::String)) return expected("an attribute name");
      Token nameTok = tok_;
      std::string name = is(Tok::String) ? tok_.str : std::string(tok_.text);
      if (attrs.has(name)) return fail(nameTok, fmt::format("redefinition of attribute '{}'", name));
      advance();
      if (!consume(Tok::Equal, "'='")) return false;
      AttrValue v;
      if (!parseAttrValue(v)) return false;
      attrs.set(name, std::move(v));
      if (!is(Tok::Comma)) break;
      advance();
    }
    return consume(Tok::RBrace, "',' or '}'");
  }

  // ---- ops and regions -------------------------------------------------------------

  bool parseLoc(Location& loc) {
    advance();  // 'loc'
    if (!consume(Tok::LParen, "'('")) return false;
    if (!is(Tok::String)) return expected("a file name string");
    loc.file = tok_.str;
    advance();
    if (is(Tok::Colon)) {
      advance();
      if (!is(Tok::Int) || tok_.i <= 0) return expected("a line number");
      loc.line = tok_.i;
      advance();
      if (is(Tok::Colon)) {
        advance();
        if (!is(Tok::Int) || tok_.i <= 0) return expected("a column number");
        loc.column = tok_.i;
        advance();
      }
    }
    if (loc.file.empty()) return fail(tok_, "expected a non-empty file name in loc(...)");
    return consume(Tok::RParen, "')'");
  }

  bool parseArgs(Region& region, Tok close) {
    std::unordered_set<std::string> pending;
    if (is(close)) return true;
    while (true) {
      if (!is(Tok::ValueName)) return expected("an argument (%name: type)");
      Token nameTok = tok_;
      if (!checkNewName(nameTok, &pending)) return false;
      advance();
      if (!consume(Tok::Colon, "':'")) return false;
      Type t = Type::unknownTensor();
      if (!parseType(t)) return false;
      values_[nameTok.str] = region.addArgument(std::move(t), nameTok.str);
      if (!is(Tok::Comma)) return true;
      advance();
    }
  }

  /// `{ [^(args):] op* }`
  bool parseRegion(Region& region, bool allowArgs) {
    if (depth_ >= kMaxRegionDepth)
      return fail(tok_, fmt::format("expected at most {} nested regions, got more", kMaxRegionDepth));
    ++depth_;
    if (!consume(Tok::LBrace, "'{'")) return false;
    if (allowArgs && is(Tok::Caret)) {
      advance();
      if (!consume(Tok::LParen, "'('") || !parseArgs(region, Tok::RParen) ||
          !consume(Tok::RParen, "',' or ')'") || !consume(Tok::Colon, "':'"))
        return false;
    }
    while (!is(Tok::RBrace)) {
      if (is(Tok::Eof)) return expected("an op or '}'");
      if (!parseOp(region)) return false;
    }
    advance();
    --depth_;
    return true;
  }

  bool parseOp(Region& region) {
    Token start = tok_;
    std::vector<Token> names;
    std::unordered_set<std::string> pending;
    if (is(Tok::ValueName)) {
      while (true) {
        if (!is(Tok::ValueName)) return expected("a result name (%name)");
        if (!checkNewName(tok_, &pending)) return false;
        names.push_back(tok_);
        advance();
        if (!is(Tok::Comma)) break;
        advance();
      }
      if (!consume(Tok::Equal, "',' or '='")) return false;
    }
    if (!is(Tok::Ident)) return expected("an op name");
    Token opTok = tok_;
    std::optional<OpKind> kind = opKindFromMnemonic(tok_.text);
    if (!kind) return fail(tok_, fmt::format("expected an op name, got unknown op {}", describe(tok_)));
    advance();

    std::vector<Value*> operands;
    if (is(Tok::LParen)) {
      advance();
      if (!is(Tok::RParen)) {
        while (true) {
          if (!parseOperand(operands)) return false;
          if (!is(Tok::Comma)) break;
          advance();
        }
      }
      if (!consume(Tok::RParen, "',' or ')'")) return false;
    }

    Attributes attrs;
    if (*kind == OpKind::Constant && (is(Tok::Int) || is(Tok::Float) || is(Tok::String) ||
                                      is(Tok::LBracket) || (is(Tok::Ident) && isLiteralWord(tok_.text)))) {
      AttrValue v;
      if (!parseAttrValue(v)) return false;
      attrs.set("value", std::move(v));
    }
    if (atAttrDict()) {
      Token braceTok = tok_;
      bool hadValue = attrs.has("value");
      Attributes dict;
      if (!parseAttrDict(dict)) return false;
      if (hadValue && dict.has("value"))
        return fail(braceTok, "redefinition of attribute 'value' (already given after 'constant')");
      for (const auto& [k, v] : dict.all()) attrs.set(k, v);
    }

    std::vector<Type> types;
    if (is(Tok::Colon)) {
      advance();
      if (!parseTypeList(types)) return false;
    }
    if (types.size() != names.size())
      return fail(start, fmt::format("expected {} result type{} (one per name left of '='), got {}",
                                     names.size(), names.size() == 1 ? "" : "s", types.size()));

    Op* op =
        region.append(std::make_unique<Op>(*kind, std::move(operands), std::move(types), std::move(attrs)));
    if (sourceMap_) sourceMap_->ops[op] = locOf(opTok);
    for (size_t i = 0; i < names.size(); ++i) {
      op->result(i)->setName(names[i].str);
      values_[names[i].str] = op->result(i);
    }

    while (is(Tok::LBrace) || (isWord("else") && op->numRegions() > 0)) {
      if (isWord("else")) {
        advance();
        if (!is(Tok::LBrace)) return expected("'{'");
      }
      if (!parseRegion(op->addRegion(), /*allowArgs=*/true)) return false;
    }
    if (isWord("loc")) {
      Location loc;
      if (!parseLoc(loc)) return false;
      op->setLoc(std::move(loc));
    }
    return true;
  }

  // ---- the program -----------------------------------------------------------------

  bool parseSymbolName(std::string& out) {
    if (!is(Tok::AtName)) return expected("a name (@name)");
    out = tok_.str;
    advance();
    return true;
  }

  bool parseProgram() {
    while (!isWord("func")) {
      Token declTok = tok_;
      if (isWord("symbol")) {
        advance();
        if (!is(Tok::Ident)) return expected("a symbol name");
        Symbol s{std::string(tok_.text), 0};
        if (!declaredSymbols_.insert(s.name).second)
          return fail(tok_, fmt::format("redefinition of symbol '{}'", s.name));
        advance();
        if (!consume(Tok::LessEqual, "'<='")) return false;
        if (!is(Tok::Int)) return expected("a bound");
        s.bound = tok_.i;
        advance();
        program_->symbols().push_back(std::move(s));
        if (sourceMap_) sourceMap_->symbols.push_back(locOf(declTok));
      } else if (isWord("weight")) {
        advance();
        Token nameTok = tok_;
        std::string name;
        if (!parseSymbolName(name)) return false;
        if (!declaredWeights_.insert(name).second)
          return fail(nameTok, fmt::format("redefinition of weight '@{}'", name));
        if (!consume(Tok::Colon, "':'")) return false;
        Type t = Type::unknownTensor();
        if (!parseType(t)) return false;
        program_->weights().push_back(WeightDecl{std::move(name), std::move(t), {}});
        if (sourceMap_) sourceMap_->weights.push_back(locOf(declTok));
      } else {
        return expected("'symbol', 'weight' or 'func'");
      }
    }
    if (sourceMap_) sourceMap_->func = locOf(tok_);
    advance();  // 'func'
    if (!parseSymbolName(program_->funcName())) return false;
    if (!consume(Tok::LParen, "'('") || !parseArgs(program_->body(), Tok::RParen) ||
        !consume(Tok::RParen, "',' or ')'") || !consume(Tok::Arrow, "'->'") || !consume(Tok::LParen, "'('"))
      return false;
    if (!is(Tok::RParen) && !parseTypeList(program_->resultTypes())) return false;
    if (!consume(Tok::RParen, "',' or ')'")) return false;
    if (isWord("attributes")) {
      advance();
      if (!is(Tok::LBrace)) return expected("'{' after 'attributes'");
      if (!parseAttrDict(program_->attrs())) return false;
    }
    if (!parseRegion(program_->body(), /*allowArgs=*/false)) return false;
    if (!is(Tok::Eof)) return expected("end of input");
    return true;
  }

  Lexer lexer_;
  Token tok_;
  std::string_view buffer_;
  SourceMap* sourceMap_;
  Status error_;
  Program* program_ = nullptr;
  std::unordered_map<std::string, Value*> values_;
  // Names declared so far: Program::findSymbol/findWeight scan a vector, which
  // made a program of n declarations parse in O(n^2).
  std::unordered_set<std::string> declaredSymbols_, declaredWeights_;
  int depth_ = 0;
};

}  // namespace

Expected<std::unique_ptr<Program>> parseProgram(std::string_view text, std::string_view bufferName) {
  return parseProgram(text, bufferName, nullptr);
}

Expected<std::unique_ptr<Program>> parseProgram(std::string_view text, std::string_view bufferName,
                                                SourceMap* sourceMap) {
  if (sourceMap) *sourceMap = SourceMap{};
  Parser parser(text, bufferName, sourceMap);
  return parser.run();
}

}  // namespace cocktail::ir
