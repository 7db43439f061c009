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
  return std::make_unique<OpProfile>(std::string_view(v) == "shapes");
}

std::string OpProfile::rowLabel(std::string_view name, std::string_view operandTypes) const {
  std::string row(name);
  if (byShape_ && !operandTypes.empty()) (row += ' ') += operandTypes;
  return row;
}

void OpProfile::add(const std::string& row, std::chrono::nanoseconds elapsed, int offPlan) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(row);
  if (it == entries_.end()) it = entries_.emplace(row, Entry{}).first;
  Entry& e = it->second;
  ++e.calls;
  e.offPlan += offPlan;
  e.total += elapsed;
}

std::string OpProfile::report() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, Entry>> rows(entries_.begin(), entries_.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.total > b.second.total; });
  double sumMs = 0;
  size_t width = 16;
  for (const auto& [row, e] : rows) {
    sumMs += std::chrono::duration<double, std::milli>(e.total).count();
    width = std::max(width, row.size());
  }
  std::string out = fmt::format("{:<{}} {:>10} {:>12} {:>7} {:>10} {:>10}\n", "op", width, "calls", "total ms", "share",
                                "us/call", "off plan");
  for (const auto& [row, e] : rows) {
    const double ms = std::chrono::duration<double, std::milli>(e.total).count();
    out += fmt::format("{:<{}} {:>10} {:>12.2f} {:>6.1f}% {:>10.1f} {:>10}\n", row, width, e.calls, ms,
                       sumMs > 0 ? 100.0 * ms / sumMs : 0.0, 1000.0 * ms / static_cast<double>(e.calls), e.offPlan);
  }
  return out;
}

}  // namespace cocktail::runtime
