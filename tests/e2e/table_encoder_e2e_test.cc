// The table encoder thread (stream/table_encoder.h) in a real run with many small epochs:
// every seal hands over writers whose jobs it waited for, so the tables hold every clean
// record exactly once (the independent model's keys) and equal, row for row, a run that
// encodes inline (PINSTREAM_TABLE_ENCODER=0).
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

#include "tests/e2e/delta_reader.h"
#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"

namespace pinstream::testing {
namespace {

// Jobs the run's encoder thread did, from its debug line (-1 when absent).
int64_t encoder_jobs(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("Table encoder\\. jobs=([0-9]+)"))) return -1;
  return std::stoll(m[1].str());
}

TEST(TablesE2E, EncoderThreadWritesTheSameTablesAsInlineEncodingEpochByEpoch) {
  PipelineRun run("ps-encoder", /*epoch_records=*/100, /*checkpoint_every=*/4);
  ExpectedPipeline expected;
  expected.write_input(run.raw(), 800);
  const std::string cmd =
      "--log-level debug run --config '" + run.config().string() + "' --until-idle";
  std::string out;
  ASSERT_EQ(run.pinstream(cmd, &out), 0) << out;
  EXPECT_GT(encoder_jobs(out), 0) << out;
  for (auto [table, model] : {std::pair{"pin", &expected.pin}, std::pair{"geo", &expected.geo},
                              std::pair{"user", &expected.user}}) {
    std::multiset<int64_t> want;
    for (const auto& [k, v] : *model) want.insert(k);
    EXPECT_EQ(run.keys(table), want) << table;
    // Many epochs, each a seal that waited for the table's jobs.
    EXPECT_GT(read_delta_log(run.tables() / table).version, 5) << table;
  }
  std::map<std::string, std::string> threaded;
  for (const auto& [table, columns, order] : kComparedTables)
    threaded[table] = run.rows(table, columns, order);

  run.set_data(run.dir().path() / "inline");
  ::setenv("PINSTREAM_TABLE_ENCODER", "0", 1);
  out.clear();
  const int rc = run.pinstream(cmd, &out);
  ::unsetenv("PINSTREAM_TABLE_ENCODER");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(encoder_jobs(out), -1) << "the encoder thread ran with PINSTREAM_TABLE_ENCODER=0";
  for (const auto& [table, columns, order] : kComparedTables)
    EXPECT_EQ(run.rows(table, columns, order), threaded[table]) << table;
}

}  // namespace
}  // namespace pinstream::testing
