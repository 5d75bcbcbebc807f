#include "tests/e2e/pipeline_run.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/e2e/delta_reader.h"

namespace pinstream::testing {
namespace fs = std::filesystem;
using nlohmann::json;

const char* const kDefaultViews[11] = {"most_popular_category_by_country",
                                       "category_count_by_year",
                                       "most_popular_category_by_year",
                                       "most_followed_user_by_country",
                                       "country_with_most_followed_user",
                                       "most_popular_category_by_age_group",
                                       "median_follower_count_by_age_group",
                                       "users_joined_by_year",
                                       "median_follower_count_by_join_year",
                                       "median_follower_count_by_age_group_and_join_year",
                                       "category_count_by_hour"};

PipelineRun::PipelineRun(const std::string& prefix, int epoch_records, int checkpoint_every)
    : dir_(prefix), data_(dir_.path() / "data"), config_(dir_.path() / "pipeline.yaml") {
  write_file(config_, read_file(source_dir() / "examples/pinterest/pipeline.yaml"));
  if (epoch_records > 0) {
    edit_config("epoch_max_records: 200000",
                "epoch_max_records: " + std::to_string(epoch_records) +
                    "\n  poll_batch: " + std::to_string(epoch_records / 2));
    edit_config("checkpoint_every_epochs: 10",
                "checkpoint_every_epochs: " + std::to_string(checkpoint_every));
  }
}

void PipelineRun::edit_config(const std::string& from, const std::string& to) {
  std::string yaml = read_file(config_);
  size_t at = yaml.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  yaml.replace(at, from.size(), to);
  write_file(config_, yaml);
}

std::string PipelineRun::env() const {
  return "PINSTREAM_SOURCE=files PINSTREAM_FILES='" + raw().string() + "' PINSTREAM_DATA='" +
         data_.string() + "' ";
}

int PipelineRun::pinstream(const std::string& args, std::string* out, bool merge) const {
  return run_command(env() + pinstream_binary().string() + " " + args, out, merge);
}

int PipelineRun::run_until_idle(std::string* out) const {
  return pinstream("run --config '" + config_.string() + "' --until-idle", out);
}

pid_t PipelineRun::spawn(const std::string& extra, const fs::path& log) const {
  std::string cmd = "exec env " + env() + pinstream_binary().string() + " run --config '" +
                    config_.string() + "' " + extra + " >>'" + log.string() + "' 2>&1";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

json PipelineRun::query(const std::string& view) const {
  std::string out;
  int rc = pinstream("query --config '" + config_.string() + "' " + view + " --format json", &out,
                     false);
  EXPECT_EQ(rc, 0) << view << ": " << out;
  return json::parse(out, nullptr, false);
}

json PipelineRun::stats() const {
  std::string out;
  int rc = pinstream("query --config '" + config_.string() + "' --stats", &out, false);
  EXPECT_EQ(rc, 0) << out;
  return json::parse(out, nullptr, false);
}

std::multiset<int64_t> PipelineRun::keys(const std::string& table) const {
  return table_keys(tables() / table);
}

std::string PipelineRun::rows(const std::string& table, const std::string& columns,
                              const std::string& order_by) const {
  DeltaSnapshot snap = read_delta_log(tables() / table);
  if (snap.files.empty()) return "[]";
  std::string js;
  EXPECT_EQ(duckdb_query(
                "SELECT " + columns + " FROM " + duckdb_scan(snap) + " ORDER BY " + order_by, &js),
            0)
      << js;
  return js;
}

void split_input(const fs::path& raw, const fs::path& first, const fs::path& later) {
  for (const auto& f : fs::recursive_directory_iterator(raw)) {
    if (!f.is_regular_file()) continue;
    const bool is_first = f.path().filename().string().find("+0.json") != std::string::npos;
    const fs::path to = (is_first ? first : later) / fs::relative(f.path(), raw);
    fs::create_directories(to.parent_path());
    fs::copy_file(f.path(), to);
  }
}

}  // namespace pinstream::testing
