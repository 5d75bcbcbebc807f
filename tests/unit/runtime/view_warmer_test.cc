#include "stream/query/view_warmer.h"

#include <gtest/gtest.h>

#include <atomic>

#include "state/aggregates.h"
#include "state/views.h"
#include "tests/support/test_support.h"
#include "tests/unit/state/posts_fixture.h"

namespace pinstream::runtime {
namespace {
using pinstream::testing::TempDir;

// The default pipeline's aggregates and views over an (empty) state store.
struct DefaultViews {
  TempDir dir{"ps-warm"};
  std::unique_ptr<state::StateStore> store;
  core::ConfigNode cfg;
  std::unique_ptr<state::Aggregates> aggs;
  std::unique_ptr<state::Views> views;
  DefaultViews() {
    store = std::move(state::StateStore::open((dir.path() / "db").string())).value();
    cfg = std::move(
              core::load_config_file(
                  (pinstream::testing::source_dir() / "examples/pinterest/pipeline.yaml").string()))
              .value();
    aggs = std::move(state::Aggregates::build(*store, *cfg.find("aggregates"),
                                              state::test::posts_schema(), "timestamp"))
               .value();
    views = std::move(state::Views::build(*cfg.find("views"), *aggs)).value();
  }
  CommittedView at(int64_t epoch) const {
    CommittedView v;
    v.epoch = epoch;
    v.reader = store->snapshot();
    return v;
  }
};

bool all_cached(AnswerCache& cache, const state::Views& views, int64_t epoch) {
  std::string line;
  for (const std::string& name : views.names())
    if (!cache.get(epoch, name, line) || line.find("\"ok\":true") == std::string::npos)
      return false;
  return true;
}

TEST(ViewWarmer, AnEpochBecomesCurrentOnlyWithEveryDefaultViewAnswerCached) {
  DefaultViews d;
  ASSERT_FALSE(d.views->names().empty());
  auto cache = std::make_shared<AnswerCache>();
  std::atomic<int64_t> committed{3};
  ViewWarmer warmer([&] { return d.at(committed.load()); }, d.views.get(), cache,
                    std::chrono::milliseconds(1));
  // The constructor warms the epoch committed at start before queries can ask.
  EXPECT_EQ(warmer.current().epoch, 3);
  EXPECT_TRUE(all_cached(*cache, *d.views, 3));
  for (int64_t e = 4; e <= 40; ++e) {
    committed.store(e);
    // Whenever queries see an epoch, its answers are there: checked while the warmer runs.
    ASSERT_TRUE(pinstream::testing::wait_until(
        [&] {
          CommittedView now = warmer.current();
          EXPECT_TRUE(all_cached(*cache, *d.views, now.epoch))
              << "epoch " << now.epoch << " shown without its views computed";
          return now.epoch == e;
        },
        std::chrono::seconds(10)))
        << "epoch " << e << " never became current";
  }
}

TEST(ViewWarmer, NothingCommittedYetIsShownAsIsAndAnEpochWithoutViewsToo) {
  auto cache = std::make_shared<AnswerCache>();
  std::atomic<int64_t> committed{0};
  ViewWarmer warmer(
      [&] {
        CommittedView v;
        v.epoch = committed.load();
        return v;
      },
      nullptr, cache, std::chrono::milliseconds(1));
  EXPECT_EQ(warmer.current().epoch, 0);
  EXPECT_EQ(warmer.current().reader, nullptr);
  committed.store(2);
  EXPECT_TRUE(pinstream::testing::wait_until([&] { return warmer.current().epoch == 2; },
                                             std::chrono::seconds(10)));
}

}  // namespace
}  // namespace pinstream::runtime
