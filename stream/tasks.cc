#include "stream/tasks.h"

#include <algorithm>
#include <set>

namespace pinstream::runtime {
namespace {

// A decimal number of at most 9 digits (tasks) or 18 (generations); nullopt otherwise.
std::optional<int64_t> number(const std::string& s, size_t max_digits) {
  if (s.empty() || s.size() > max_digits || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoll(s);
}

}  // namespace

std::optional<int32_t> task_of_partition(const std::string& partition_id) {
  size_t slash = partition_id.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  auto n = number(partition_id.substr(slash + 1), 9);
  if (!n) return std::nullopt;
  return static_cast<int32_t>(*n);
}

std::vector<int32_t> tasks_of(const core::Positions& positions) {
  std::set<int32_t> tasks;
  for (const auto& [id, pos] : positions) tasks.insert(task_of_partition(id).value_or(0));
  if (tasks.empty()) tasks.insert(0);
  return {tasks.begin(), tasks.end()};
}

std::vector<std::string> task_app_ids(const std::string& pipeline_id, TaskMode mode,
                                      const std::vector<int32_t>& tasks, int64_t generation) {
  const std::string prefix = "pinstream-" + pipeline_id;
  const std::string gen = "-g" + std::to_string(generation);
  if (mode == TaskMode::kSingle) return {prefix + gen};
  std::vector<std::string> out;
  for (int32_t p : tasks)
    out.push_back(prefix + "-p" + std::to_string(p) + (generation > 0 ? gen : ""));
  return out;
}

std::optional<ParsedAppId> parse_app_id(const std::string& app_id, const std::string& pipeline_id) {
  const std::string prefix = "pinstream-" + pipeline_id + "-";
  if (app_id.rfind(prefix, 0) != 0 || app_id.size() < prefix.size() + 2) return std::nullopt;
  const std::string rest = app_id.substr(prefix.size());
  ParsedAppId out;
  if (rest[0] == 'g') {
    auto g = number(rest.substr(1), 18);
    if (!g) return std::nullopt;
    out.generation = *g;
    return out;
  }
  if (rest[0] != 'p') return std::nullopt;
  size_t dash = rest.find("-g");
  auto p = number(rest.substr(1, dash == std::string::npos ? std::string::npos : dash - 1), 9);
  if (!p) return std::nullopt;
  out.task = static_cast<int32_t>(*p);
  if (dash != std::string::npos) {
    auto g = number(rest.substr(dash + 2), 18);
    if (!g || *g == 0) return std::nullopt;  // generation 0 is written without its suffix
    out.generation = *g;
  }
  return out;
}

}  // namespace pinstream::runtime
