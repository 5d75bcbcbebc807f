// VACUUM (connectors/delta/vacuum.h): files removed by OPTIMIZE or RESTORE go once their
// removal is older than the retention, orphans once they are older than the retention (and
// an hour), never a file the latest version or a kept version needs; a dry run deletes
// nothing; START/END commits frame the deletions; durations parse strictly.
#include "connectors/delta/vacuum.h"

#include <gtest/gtest.h>
#include <utime.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "connectors/delta/checkpoint.h"
#include "connectors/delta/log_store.h"
#include "connectors/delta/optimize.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::delta {
namespace {
namespace fs = std::filesystem;
constexpr int64_t kDay = 24ll * 3600 * 1000;

core::Schema schema() {
  return core::Schema({{"ind", core::Type::kLong, false}, {"name", core::Type::kString, true}});
}

// Commits `files` files of 2 rows each, inds from `*next`.
void write_files(DeltaTable& t, int files, int64_t* next) {
  for (int f = 0; f < files; ++f) {
    auto w = t.new_writer();
    for (int r = 0; r < 2; ++r) {
      int64_t i = (*next)++;
      core::Row row{core::Value::of_long(i), core::Value::of_string("n" + std::to_string(i))};
      ASSERT_TRUE(w->append(row).is_ok());
    }
    auto adds = w->finish();
    ASSERT_TRUE(adds.has_value());
    ASSERT_TRUE(t.commit(*adds, "app", *next).has_value());
  }
}

// The data files in the table directory (not under _delta_log).
std::set<std::string> data_files(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().string().find("_delta_log") == std::string::npos)
      out.insert(fs::relative(e.path(), dir).string());
  return out;
}

std::set<std::string> active(DeltaTable& t) {
  std::set<std::string> out;
  auto snap = t.latest_snapshot();
  EXPECT_TRUE(snap.has_value());
  if (snap)
    for (const auto& [path, add] : (*snap)->active) out.insert(data_key(path));
  return out;
}

void set_mtime(const fs::path& p, int64_t ms) {
  struct utimbuf times {};
  times.actime = times.modtime = static_cast<time_t>(ms / 1000);
  ASSERT_EQ(::utime(p.c_str(), &times), 0) << p;
}

// An uncommitted data file, as a crashed epoch leaves it: `name` in the table directory.
fs::path orphan(const std::string& dir, const std::string& name, int64_t mtime_ms) {
  fs::path p = fs::path(dir) / name;
  std::ofstream(p) << "PAR1 not committed";
  set_mtime(p, mtime_ms);
  return p;
}

struct Fixture {
  testing::TempDir tmp;
  std::string dir = (tmp.path() / "t").string();
  std::unique_ptr<DeltaTable> table;
  int64_t next = 0;
  Fixture() {
    auto t = DeltaTable::open(dir, "t", schema());
    EXPECT_TRUE(t.has_value());
    table = std::move(*t);
  }
};

TEST(DeltaVacuum, DeletesFilesRemovedByOptimizeOnlyAfterTheRetentionAndNotInADryRun) {
  Fixture f;
  write_files(*f.table, 5, &f.next);
  const auto inputs = data_files(f.dir);
  OptimizeOptions o;
  o.min_files = 2;
  ASSERT_TRUE(optimize_table(*f.table, o).has_value());
  const auto live = active(*f.table);
  ASSERT_EQ(live.size(), 1u);

  VacuumOptions v;  // now: the removals are within the default 7 days
  auto r = vacuum_table(*f.table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->files, 0);
  EXPECT_EQ(r->kept, 5);
  EXPECT_EQ(r->retention_ms, 7 * kDay);

  v.now_ms = now_ms() + 8 * kDay;
  v.dry_run = true;
  r = vacuum_table(*f.table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->files, 5);
  EXPECT_EQ(r->orphans, 0);
  EXPECT_GT(r->bytes, 0);
  EXPECT_EQ(r->first_paths.size(), 5u);
  EXPECT_FALSE(r->start_version.has_value());
  EXPECT_EQ(data_files(f.dir).size(), 6u) << "a dry run deleted files";

  v.dry_run = false;
  const int64_t before = *f.table->latest_version();
  r = vacuum_table(*f.table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->files, 5);
  EXPECT_EQ(data_files(f.dir), live);
  ASSERT_TRUE(r->start_version && r->end_version);
  EXPECT_EQ(*r->start_version, before + 1);
  EXPECT_EQ(*r->end_version, before + 2);
  auto start = f.table->store().get(commit_key(*r->start_version));
  ASSERT_TRUE(start.has_value());
  EXPECT_NE(start->find("\"operation\":\"VACUUM START\""), std::string::npos) << *start;
  EXPECT_NE(start->find("\"numFilesToDelete\":\"5\""), std::string::npos) << *start;
  auto end = f.table->store().get(commit_key(*r->end_version));
  ASSERT_TRUE(end.has_value());
  EXPECT_NE(end->find("\"operation\":\"VACUUM END\""), std::string::npos) << *end;
  EXPECT_EQ(active(*f.table), live);
  for (const auto& k : inputs) EXPECT_FALSE(fs::exists(fs::path(f.dir) / k)) << k;

  r = vacuum_table(*f.table, v);  // nothing left: no commits either
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->files, 0);
  EXPECT_FALSE(r->start_version.has_value());
}

TEST(DeltaVacuum, DeletesOrphansOlderThanTheRetentionButNeverYoungOnes) {
  Fixture f;
  write_files(*f.table, 2, &f.next);
  const auto live = data_files(f.dir);
  const int64_t now = now_ms();
  fs::path old = orphan(f.dir, "part-old-orphan.snappy.parquet", now - 8 * kDay);
  fs::path recent = orphan(f.dir, "part-recent-orphan.snappy.parquet", now - 2 * kDay);
  fs::path fresh = orphan(f.dir, "part-fresh-orphan.snappy.parquet", now - 60 * 1000);
  fs::path hidden = orphan(f.dir, ".hidden.crc", now - 30 * kDay);
  fs::create_directories(fs::path(f.dir) / "_pinstream");
  fs::path underscore = orphan(f.dir, "_pinstream/x", now - 30 * kDay);

  VacuumOptions v;
  auto r = vacuum_table(*f.table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->files, 1);
  EXPECT_EQ(r->orphans, 1);
  EXPECT_FALSE(fs::exists(old));
  EXPECT_TRUE(fs::exists(recent) && fs::exists(fresh) && fs::exists(hidden) &&
              fs::exists(underscore));

  v.retention_ms = 0;  // even at 0: an orphan younger than an hour may be a commit to come
  r = vacuum_table(*f.table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->files, 1);
  EXPECT_FALSE(fs::exists(recent));
  EXPECT_TRUE(fs::exists(fresh));
  for (const auto& k : live) EXPECT_TRUE(fs::exists(fs::path(f.dir) / k)) << k;
}

TEST(DeltaVacuum, DeletesTemporaryFilesOfKilledWritesOnceAnHourOldWhateverTheRetention) {
  Fixture f;
  write_files(*f.table, 2, &f.next);
  const auto live = data_files(f.dir);
  const int64_t now = now_ms();
  // What a kill -9 leaves: a data file and a commit written beside their names, never renamed.
  fs::path data = orphan(f.dir, ".part-7.snappy.parquet.ps-tmp-4242-1", now - 2 * 3600 * 1000);
  fs::path commit =
      orphan(f.dir, "_delta_log/.00000000000000000009.json.ps-tmp-4242-2", now - 2 * 3600 * 1000);
  fs::path young = orphan(f.dir, ".part-8.snappy.parquet.ps-tmp-4243-1", now - 60 * 1000);

  VacuumOptions v;  // the default 7-day retention: no reader needs a temporary file anyway
  v.dry_run = true;
  auto r = vacuum_table(*f.table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->files, 2);
  EXPECT_EQ(r->temporaries, 2);
  EXPECT_TRUE(fs::exists(data) && fs::exists(commit)) << "a dry run deleted files";

  v.dry_run = false;
  r = vacuum_table(*f.table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->temporaries, 2);
  EXPECT_FALSE(fs::exists(data));
  EXPECT_FALSE(fs::exists(commit));
  EXPECT_TRUE(fs::exists(young)) << "a write of the last hour may still be going on";
  for (const auto& k : live) EXPECT_TRUE(fs::exists(fs::path(f.dir) / k)) << k;
  EXPECT_EQ(active(*f.table), live);
}

TEST(DeltaVacuum, DeletesFilesARestoreRemovedUnlessAKeptVersionNeedsThem) {
  Fixture f;
  write_files(*f.table, 2, &f.next);
  const int64_t early = *f.table->latest_version();
  const auto early_files = data_files(f.dir);
  write_files(*f.table, 3, &f.next);
  const int64_t late = *f.table->latest_version();
  ASSERT_TRUE(f.table->restore(early).has_value());  // what `replay` does
  ASSERT_EQ(active(*f.table), early_files);

  VacuumOptions v;
  v.retention_ms = 0;
  v.keep_versions = {late};  // a kept checkpoint recorded the later version
  auto r = vacuum_table(*f.table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->files, 0);
  EXPECT_EQ(data_files(f.dir).size(), 5u);

  v.keep_versions = {early};
  r = vacuum_table(*f.table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->files, 3);
  EXPECT_EQ(data_files(f.dir), early_files);

  v.keep_versions = {1000};  // past the latest version: its files are the active ones
  r = vacuum_table(*f.table, v);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->files, 0);
}

TEST(DeltaVacuum, CheckpointsDropTombstonesOlderThanTheRetention) {
  Fixture f;
  write_files(*f.table, 3, &f.next);
  auto snap = f.table->latest_snapshot();
  ASSERT_TRUE(snap.has_value());
  Snapshot s = **snap;
  auto it = s.active.begin();
  const std::string old_path = it->first, recent_path = std::next(it)->first;
  s.removed[old_path] = now_ms() - 8 * kDay;
  s.removed[recent_path] = now_ms() - 1 * kDay;
  s.active.erase(old_path);
  s.active.erase(recent_path);
  ASSERT_TRUE(write_checkpoint(f.table->store(), s).is_ok());
  auto back = read_checkpoint(f.table->store(), s.version);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->removed.count(old_path), 0u);
  EXPECT_EQ(back->removed.count(recent_path), 1u);
  EXPECT_EQ(back->active.size(), 1u);
}

TEST(DeltaVacuum, ReadsTheRetentionFromTheTableProperty) {
  Snapshot s;
  s.metadata_json = R"({"configuration":{"delta.deletedFileRetentionDuration":"interval 2 days"}})";
  EXPECT_EQ(deleted_file_retention_ms(s), 2 * kDay);
  EXPECT_EQ(deleted_file_retention_ms(Snapshot()), 7 * kDay);
}

TEST(DeltaVacuum, ParsesDurationsStrictly) {
  EXPECT_EQ(parse_duration_ms("168h"), 7 * kDay);
  EXPECT_EQ(parse_duration_ms("7d"), 7 * kDay);
  EXPECT_EQ(parse_duration_ms("0h"), 0);
  EXPECT_EQ(parse_duration_ms("30m"), 30 * 60 * 1000);
  EXPECT_EQ(parse_duration_ms("90s"), 90 * 1000);
  for (const char* bad : {"", "7", "h", "-1h", "7 d", "1w", "1.5h", "7dd", "1234567890123h"})
    EXPECT_FALSE(parse_duration_ms(bad).has_value()) << bad;
  EXPECT_EQ(format_duration(7 * kDay), "7 days");
  EXPECT_EQ(format_duration(0), "0 seconds");
  EXPECT_EQ(format_duration(1500), "1500 ms");
}

}  // namespace
}  // namespace pinstream::connectors::delta
