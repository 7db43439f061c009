//===- server/ModelMemory.cpp -------------------------------------------------------===//
#include "server/ModelMemory.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "runtime/MemoryEstimate.h"

namespace cocktail::server {

StatusOr<int64_t> parseByteSize(const std::string& text, const std::string& what) {
  const auto refuse = [&] {
    return invalidArgument(fmt::format(
        "{}: '{}' is not a byte count (bytes, or a number with K, M, G or T, e.g. 1073741824, 512MiB, 2GiB)", what,
        text));
  };
  // Digits with at most one decimal point (no sign, exponent or hex: strtod
  // would take those), then the suffix.
  const size_t numberEnd = text.find_first_not_of("0123456789.");
  const std::string digits = text.substr(0, numberEnd);
  if (digits.empty() || digits.front() == '.' || digits.back() == '.' ||
      std::count(digits.begin(), digits.end(), '.') > 1)
    return refuse();
  const double number = std::strtod(digits.c_str(), nullptr);
  std::string suffix = numberEnd == std::string::npos ? "" : text.substr(numberEnd);
  if (suffix.size() == 3 && suffix.compare(1, 2, "iB") == 0) suffix.resize(1);  // "MiB" -> "M"
  double scale = 1;
  if (suffix == "K") scale = 1024.0;
  else if (suffix == "M") scale = 1024.0 * 1024;
  else if (suffix == "G") scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!suffix.empty() && suffix != "B") return refuse();
  const double bytes = std::floor(number * scale);
  // 2^63 is the first double past int64; refuse rather than wrap.
  if (!std::isfinite(bytes) || bytes >= 9223372036854775808.0)
    return invalidArgument(fmt::format("{}: '{}' is more bytes than an int64 can count", what, text));
  return static_cast<int64_t>(bytes);
}

int64_t defaultModelMemoryLimit() {
  const long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || pageSize <= 0) return 0;
  return static_cast<int64_t>(pages) / 2 * pageSize;
}

StatusOr<MemoryLimit> modelMemoryLimit(const inference::ModelConfig& config, int64_t serverLimit,
                                       const std::string& where) {
  MemoryLimit limit{serverLimit, "--model-memory-limit"};
  auto it = config.parameters().find(kMemoryLimitParameter);
  if (it == config.parameters().end()) return limit;
  auto own = parseByteSize(it->second.string_value(), fmt::format("{}: parameter {}", where, kMemoryLimitParameter));
  if (!own) return own.status();
  // A config may lower the operator's limit, never raise it; 0 keeps the server's.
  if (*own > 0 && (serverLimit == 0 || *own < serverLimit))
    limit = {*own, fmt::format("config.pbtxt parameter {}", kMemoryLimitParameter)};
  return limit;
}

Status checkModelMemory(const std::string& where, int64_t bytes, const std::string& breakdown,
                        const MemoryLimit& limit) {
  if (limit.bytes == 0 || bytes <= limit.bytes) return Status::success();
  return {Status::Code::ResourceExhausted,
          fmt::format("{} would hold an estimated {} ({}), more than its memory limit of {} ({}); lower the "
                      "instance_group count or the input bounds, or raise the limit",
                      where, runtime::describeBytes(bytes), breakdown, runtime::describeBytes(limit.bytes),
                      limit.source)};
}

}  // namespace cocktail::server
