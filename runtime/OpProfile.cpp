//===- runtime/OpProfile.cpp ----------------------------------------------------------===//
#include "runtime/OpProfile.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace cocktail::runtime {

std::unique_ptr<OpProfile> OpProfile::fromEnvironment() {
  const char* v = std::getenv("COCKTAIL_PROFILE");
  if (!v || !*v || std::string_view(v) == "0") return nullptr;
  return std::make_unique<OpProfile>();
}

void OpProfile::add(ir::OpKind kind, std::chrono::nanoseconds elapsed, int offPlan) {
  std::lock_guard lock(mutex_);
  Entry& e = entries_[kind];
  ++e.calls;
  e.offPlan += offPlan;
  e.total += elapsed;
}

std::string OpProfile::report() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<ir::OpKind, Entry>> rows(entries_.begin(), entries_.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.total > b.second.total; });
  double sumMs = 0;
  for (const auto& [kind, e] : rows) sumMs += std::chrono::duration<double, std::milli>(e.total).count();
  std::string out =
      fmt::format("{:<16} {:>10} {:>12} {:>7} {:>10} {:>10}\n", "op", "calls", "total ms", "share", "us/call", "off plan");
  for (const auto& [kind, e] : rows) {
    const double ms = std::chrono::duration<double, std::milli>(e.total).count();
    out += fmt::format("{:<16} {:>10} {:>12.2f} {:>6.1f}% {:>10.1f} {:>10}\n", ir::mnemonic(kind), e.calls, ms,
                       sumMs > 0 ? 100.0 * ms / sumMs : 0.0, 1000.0 * ms / static_cast<double>(e.calls), e.offPlan);
  }
  return out;
}

}  // namespace cocktail::runtime
