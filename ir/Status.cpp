//===- ir/Status.cpp -------------------------------------------------------------===//
#include "ir/Status.h"

namespace cocktail::ir {

std::string Diagnostic::str() const {
  std::string s;
  if (loc.known()) s += loc.str() + ": ";
  s += "error: " + message;
  for (const std::string& n : notes) s += "\n  note: " + n;
  return s;
}

std::string Status::str() const {
  std::string s;
  for (const Diagnostic& d : diags_) {
    if (!s.empty()) s += '\n';
    s += d.str();
  }
  return s;
}

}  // namespace cocktail::ir
