// `pinstream redrive` with the daemon stopped over Delta tables on S3 (PINSTREAM_TABLES=
// s3://..., s3rver behind the proxy that adds the conditional PUT it lacks): the dead-letter
// table is read through the object store, the records that now clean land once, a second
// redrive takes nothing, and the counts and views equal a clean run's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/s3_shared.h"

namespace pinstream::testing {
namespace {
using nlohmann::json;

constexpr const char* kBucket = "pinstream-redrive-e2e";

SharedS3& s3() { return shared_s3(kBucket); }

TEST(RedriveS3, StoppedDaemonRedrivesDeadLettersReadFromS3TablesOnce) {
  ASSERT_TRUE(s3().proxy);
  const std::string root =
      std::string("s3://") + kBucket + "/redrive-" + std::to_string(::getpid());
  ::setenv("PINSTREAM_TABLES", root.c_str(), 1);
  PipelineRun run("ps-redrive-s3");
  ExpectedPipeline model;
  model.write_input(run.raw(), 60);
  const ExpectedCounters& pin = model.counters["pin"];
  ASSERT_GT(pin.dead, 0);
  run.edit_config("      downloaded: long", "      downloaded: bool");
  std::string out;
  ASSERT_EQ(run.run_until_idle(&out), 0) << out;
  ASSERT_EQ(run.stats()["streams"]["pin"]["dead"], pin.read);
  run.edit_config("      downloaded: bool", "      downloaded: long");
  const std::string cfg = " --config '" + run.config().string() + "'";

  out.clear();
  ASSERT_EQ(run.pinstream("redrive" + cfg + " --dry-run", &out, false), 0) << out;
  EXPECT_NE(out.find("pin: " + std::to_string(pin.read) + " selected, " +
                     std::to_string(pin.read - pin.dead) + " would be redriven"),
            std::string::npos)
      << out;
  out.clear();
  ASSERT_EQ(run.pinstream("redrive" + cfg, &out), 0) << out;
  EXPECT_NE(out.find("pin: " + std::to_string(pin.read) + " selected, " +
                     std::to_string(pin.read - pin.dead) + " redriven"),
            std::string::npos)
      << out;
  out.clear();
  ASSERT_EQ(run.pinstream("redrive" + cfg, &out, false), 0) << out;
  EXPECT_NE(out.find("pin: " + std::to_string(pin.dead) + " selected, 0 redriven"),
            std::string::npos)
      << out;

  json s = run.stats();
  for (const auto& [name, c] : model.counters) {
    EXPECT_EQ(s["streams"][name]["read"], c.read) << name;
    EXPECT_EQ(s["streams"][name]["clean"], c.clean) << name;
    EXPECT_EQ(s["streams"][name]["dead"], c.dead) << name;
    EXPECT_EQ(s["streams"][name]["duplicates"], c.duplicates) << name;
  }
  EXPECT_EQ(json(model.view("category_count_by_year")),
            run.query("category_count_by_year")["rows"]);
  ::unsetenv("PINSTREAM_TABLES");
}

}  // namespace
}  // namespace pinstream::testing
