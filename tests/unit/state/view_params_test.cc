// Params of a view query are checked against their column's type: a value the column can
// never hold is InvalidArgument (the socket's bad_params), not an empty answer.
#include <gtest/gtest.h>

#include "state/views.h"
#include "tests/support/test_support.h"
#include "tests/unit/state/posts_fixture.h"

namespace pinstream::state {
namespace {
using namespace pinstream::state::test;  // NOLINT

class ViewParamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(StateStore::open((dir_ / "db").string())).value();
    auto cfg = core::load_config_file(
        (pinstream::testing::source_dir() / "examples/pinterest/pipeline.yaml").string());
    ASSERT_TRUE(cfg.has_value()) << cfg.error().to_string();
    cfg_ = std::move(cfg).value();
    aggs_ =
        std::move(Aggregates::build(*store_, *cfg_.find("aggregates"), posts_schema(), "timestamp"))
            .value();
    views_ = std::move(Views::build(*cfg_.find("views"), *aggs_)).value();
    Post p;
    p.ind = 1;
    p.category = "art";
    p.poster_name = "alice";
    p.follower_count = 100;
    p.country = "FR";
    p.timestamp = "2019-05-01 10:15:00";
    p.age_group = "18-24";
    p.post_year = 2019;
    p.join_year = 2016;
    ASSERT_TRUE(aggs_->update(row_of(p), false).is_ok());
    commit(*store_, *aggs_);
  }
  core::Result<ViewResult> query(const std::map<std::string, std::string>& params) {
    return views_->query("category_count_by_hour", params, store_->live());
  }

  pinstream::testing::TempDir dir_{"ps-view-params"};
  std::unique_ptr<StateStore> store_;
  core::ConfigNode cfg_;
  std::unique_ptr<Aggregates> aggs_;
  std::unique_ptr<Views> views_;
};

TEST_F(ViewParamsTest, AMalformedTimestampParamIsInvalidNotAnEmptyAnswer) {
  for (const char* bad : {"yesterday", "2019-13-01T10:00:00", "", "1556704800"}) {
    auto r = query({{"window_start", bad}});
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find("param 'window_start' must be a timestamp"),
              std::string::npos)
        << r.error().message();
  }
  auto n = query({{"category_count", "many"}});
  ASSERT_FALSE(n.has_value());
  EXPECT_NE(n.error().message().find("must be a number"), std::string::npos) << n.error().message();
}

TEST_F(ViewParamsTest, ATimestampParamMatchesInEitherFormAndRangesAcceptTimestamps) {
  for (const char* good : {"2019-05-01T10:00:00", "2019-05-01 10:00:00"}) {
    auto r = query({{"window_start", good}});
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->rows.size(), 1u) << good;
  }
  auto none = query({{"window_start", "2019-05-01T11:00:00"}});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->rows.empty()) << "a valid window with no posts is an empty answer";
  auto range = query(
      {{"window_start_min", "2019-05-01T10:00:00"}, {"window_start_max", "2019-05-01 10:00:00"}});
  ASSERT_TRUE(range.has_value()) << range.error().message();
  EXPECT_EQ(range->rows.size(), 1u);
}

}  // namespace
}  // namespace pinstream::state
