#include "state/views.h"

#include <gtest/gtest.h>

#include "tests/support/test_support.h"
#include "tests/unit/state/posts_fixture.h"

// Posts are written with designated initializers naming only the fields a test needs.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace pinstream::state {
namespace {
using pinstream::testing::TempDir;
using namespace pinstream::state::test;  // NOLINT
using Rows = std::vector<std::string>;

// Ten hand-made posts; every expected answer below is worked out by hand from them.
std::vector<Post> posts() {
  auto P = [](int64_t ind, std::optional<std::string> cat, std::string poster,
              std::optional<int64_t> fc, std::optional<std::string> country, std::string ts,
              std::optional<std::string> ag, int64_t py, int64_t jy) {
    Post p;
    p.ind = ind;
    p.category = cat;
    p.poster_name = poster;
    p.follower_count = fc;
    p.country = country;
    p.timestamp = ts;
    p.age_group = ag;
    p.post_year = py;
    p.join_year = jy;
    return p;
  };
  return {
      P(1, "art", "alice", 100, "FR", "2019-05-01 10:15:00", "18-24", 2019, 2016),
      P(2, "art", "bob", 500, "FR", "2019-05-01 10:45:00", "25-35", 2019, 2016),
      P(3, "tech", "carl", 500, "FR", "2019-05-01 11:05:00", "18-24", 2019, 2017),
      P(4, "tech", "dan", 50, "DE", "2020-02-02 08:00:00", "36-50", 2020, 2017),
      P(5, "food", "erin", std::nullopt, "DE", "2020-02-02 08:30:00", "+50", 2020, 2018),
      P(6, "food", "fay", 7000, "US", "2017-01-01 00:00:00", "25-35", 2017, 2014),
      P(7, "art", "gus", 7000, "US", "2021-06-06 06:06:06", "18-24", 2021, 2020),
      P(8, std::nullopt, "hal", 300, std::nullopt, "2021-06-06 06:20:00", std::nullopt, 2021, 2020),
      P(9, "tech", "ida", 20, "DE", "2022-12-31 23:59:59", "36-50", 2022, 2021),
      P(10, "food", "jon", 20, "DE", "2018-03-03 03:03:03", "25-35", 2018, 2015),  // late
  };
}

class DefaultViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(StateStore::open((dir_ / "db").string())).value();
    auto cfg = core::load_config_file(
        (pinstream::testing::source_dir() / "examples/pinterest/pipeline.yaml").string());
    ASSERT_TRUE(cfg.has_value()) << cfg.error().to_string();
    cfg_ = std::move(cfg).value();
    auto a = Aggregates::build(*store_, *cfg_.find("aggregates"), posts_schema(), "timestamp");
    ASSERT_TRUE(a.has_value()) << a.error().to_string();
    aggs_ = std::move(a).value();
    auto v = Views::build(*cfg_.find("views"), *aggs_);
    ASSERT_TRUE(v.has_value()) << v.error().to_string();
    views_ = std::move(v).value();
    // Two epochs, the second closing some windows: views must not depend on either.
    auto all = posts();
    for (size_t i = 0; i < all.size(); ++i) {
      ASSERT_TRUE(aggs_->update(row_of(all[i]), all[i].ind == 10).is_ok());
      if (i == 4) commit(*store_, *aggs_);
    }
    std::map<std::string, std::vector<core::Row>> closed;
    ASSERT_TRUE(aggs_->close_windows(ts("2020-01-01 00:00:00"), false, {}, closed).is_ok());
    EXPECT_EQ(closed["category_count_by_hour"].size(), 3u);
    commit(*store_, *aggs_);
  }

  Rows query(const std::string& view, const std::map<std::string, std::string>& params = {},
             std::vector<std::string>* columns = nullptr) {
    auto r = views_->query(view, params, store_->live());
    EXPECT_TRUE(r.has_value()) << view << ": " << r.error().to_string();
    if (!r.has_value()) return {};
    if (columns) *columns = r->columns;
    Rows out;
    for (const auto& row : r->rows) {
      std::string s;
      for (size_t i = 0; i < row.size(); ++i) s += (i ? "|" : "") + row[i].to_string();
      out.push_back(s);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<StateStore> store_;
  core::ConfigNode cfg_;
  std::unique_ptr<Aggregates> aggs_;
  std::unique_ptr<Views> views_;
};

TEST_F(DefaultViewsTest, ListsTheElevenViewsInConfigOrder) {
  EXPECT_EQ(views_->names(),
            (std::vector<std::string>{
                "most_popular_category_by_country", "category_count_by_year",
                "most_popular_category_by_year", "most_followed_user_by_country",
                "country_with_most_followed_user", "most_popular_category_by_age_group",
                "median_follower_count_by_age_group", "users_joined_by_year",
                "median_follower_count_by_join_year",
                "median_follower_count_by_age_group_and_join_year", "category_count_by_hour"}));
}

TEST_F(DefaultViewsTest, MostPopularCategoryByCountryBreaksTiesByCategory) {
  std::vector<std::string> cols;
  EXPECT_EQ(query("most_popular_category_by_country", {}, &cols),
            (Rows{"DE|food|2", "FR|art|2", "US|art|1"}));
  EXPECT_EQ(cols, (std::vector<std::string>{"country", "category", "category_count"}));
}

TEST_F(DefaultViewsTest, CategoryCountByYearKeeps2018To2022) {
  std::vector<std::string> cols;
  EXPECT_EQ(query("category_count_by_year", {}, &cols),
            (Rows{"2018|food|1", "2019|art|2", "2019|tech|1", "2020|food|1", "2020|tech|1",
                  "2021|art|1", "2022|tech|1"}));
  EXPECT_EQ(cols, (std::vector<std::string>{"post_year", "category", "category_count"}));
}

TEST_F(DefaultViewsTest, MostPopularCategoryByYear) {
  EXPECT_EQ(query("most_popular_category_by_year"),
            (Rows{"2018|food|1", "2019|art|2", "2020|food|1", "2021|art|1", "2022|tech|1"}));
}

TEST_F(DefaultViewsTest, MostFollowedUserByCountryBreaksTiesByPosterName) {
  std::vector<std::string> cols;
  EXPECT_EQ(query("most_followed_user_by_country", {}, &cols),
            (Rows{"DE|dan|50", "FR|bob|500", "US|fay|7000"}));
  EXPECT_EQ(cols, (std::vector<std::string>{"country", "poster_name", "follower_count"}));
}

TEST_F(DefaultViewsTest, CountryWithMostFollowedUserIsOneRow) {
  std::vector<std::string> cols;
  EXPECT_EQ(query("country_with_most_followed_user", {}, &cols), (Rows{"US|7000"}));
  EXPECT_EQ(cols, (std::vector<std::string>{"country", "follower_count"}));
}

TEST_F(DefaultViewsTest, MostPopularCategoryByAgeGroupLeavesOutNullGroups) {
  EXPECT_EQ(query("most_popular_category_by_age_group"),
            (Rows{"+50|food|1", "18-24|art|2", "25-35|food|2", "36-50|tech|2"}));
}

TEST_F(DefaultViewsTest, MedianFollowerCountByAgeGroup) {
  std::vector<std::string> cols;
  EXPECT_EQ(query("median_follower_count_by_age_group", {}, &cols),
            (Rows{"18-24|500", "25-35|500", "36-50|20"}))
      << "+50 has no follower_count: its null median is left out";
  EXPECT_EQ(cols, (std::vector<std::string>{"age_group", "median_follower_count"}));
}

TEST_F(DefaultViewsTest, UsersJoinedByYearKeeps2015To2020) {
  std::vector<std::string> cols;
  EXPECT_EQ(query("users_joined_by_year", {}, &cols),
            (Rows{"2015|1", "2016|2", "2017|2", "2018|1", "2020|2"}));
  EXPECT_EQ(cols, (std::vector<std::string>{"post_year", "number_users_joined"}));
}

TEST_F(DefaultViewsTest, MedianFollowerCountByJoinYearTakesTheLowerMiddle) {
  EXPECT_EQ(query("median_follower_count_by_join_year"),
            (Rows{"2015|20", "2016|100", "2017|50", "2020|300"}));
}

TEST_F(DefaultViewsTest, MedianFollowerCountByAgeGroupAndJoinYear) {
  std::vector<std::string> cols;
  EXPECT_EQ(query("median_follower_count_by_age_group_and_join_year", {}, &cols),
            (Rows{"18-24|2016|100", "18-24|2017|500", "18-24|2020|7000", "25-35|2015|20",
                  "25-35|2016|500", "36-50|2017|50"}));
  EXPECT_EQ(cols, (std::vector<std::string>{"age_group", "post_year", "median_follower_count"}));
}

TEST_F(DefaultViewsTest, CategoryCountByHourListsOpenAndClosedWindowsWithoutLateRows) {
  std::vector<std::string> cols;
  EXPECT_EQ(
      query("category_count_by_hour", {}, &cols),
      (Rows{"2017-01-01T00:00:00|food|1", "2019-05-01T10:00:00|art|2", "2019-05-01T11:00:00|tech|1",
            "2020-02-02T08:00:00|food|1", "2020-02-02T08:00:00|tech|1", "2021-06-06T06:00:00|art|1",
            "2022-12-31T23:00:00|tech|1"}));
  EXPECT_EQ(cols, (std::vector<std::string>{"window_start", "category", "category_count"}));
}

TEST_F(DefaultViewsTest, ParamsOverrideRangesTopNAndFilterOnEquality) {
  EXPECT_EQ(query("category_count_by_year", {{"post_year_min", "2020"}, {"post_year_max", "2021"}}),
            (Rows{"2020|food|1", "2020|tech|1", "2021|art|1"}));
  EXPECT_EQ(query("users_joined_by_year", {{"post_year_min", "2010"}}),
            (Rows{"2014|1", "2015|1", "2016|2", "2017|2", "2018|1", "2020|2"}))
      << "a param may name the view's output column";
  EXPECT_EQ(query("most_popular_category_by_country", {{"n", "2"}}),
            (Rows{"DE|food|2", "DE|tech|2", "FR|art|2", "FR|tech|1", "US|art|1", "US|food|1"}));
  EXPECT_EQ(query("category_count_by_year", {{"category", "tech"}}),
            (Rows{"2019|tech|1", "2020|tech|1", "2022|tech|1"}));
}

TEST_F(DefaultViewsTest, UnknownViewIsNotFoundAndBadParamsAreInvalid) {
  auto unknown = views_->query("nope", {}, store_->live());
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), core::StatusCode::kNotFound);
  for (const std::map<std::string, std::string>& p :
       std::vector<std::map<std::string, std::string>>{{{"colour", "red"}},
                                                       {{"post_year_min", "abc"}},
                                                       {{"n", "0"}},
                                                       {{"post_year_max", "12x"}}}) {
    auto r = views_->query("most_popular_category_by_year", p, store_->live());
    ASSERT_FALSE(r.has_value()) << p.begin()->first;
    EXPECT_EQ(r.error().code(), core::StatusCode::kInvalidArgument);
  }
  auto no_top = views_->query("category_count_by_year", {{"n", "2"}}, store_->live());
  EXPECT_FALSE(no_top.has_value()) << "n only applies to top views";
}

TEST_F(DefaultViewsTest, SnapshotAnswersFromTheEpochItWasTakenAt) {
  auto snap = store_->snapshot();
  Post p;
  p.ind = 11;
  p.category = "art";
  p.country = "US";
  ASSERT_TRUE(aggs_->update(row_of(p), false).is_ok());
  commit(*store_, *aggs_);
  auto before = views_->query("most_popular_category_by_country", {}, *snap);
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->rows[2][2].i, 1);
  EXPECT_EQ(query("most_popular_category_by_country")[2], "US|art|2");
}

TEST_F(DefaultViewsTest, PostsWithoutPosterNameOrCategoryAreLeftOut) {
  for (Post p : {Post{.ind = 11, .follower_count = 90000, .country = "US"},
                 Post{.ind = 12, .category = "art", .follower_count = 500, .country = "FR"},
                 Post{.ind = 13, .poster_name = "zoe", .follower_count = 1, .country = "IT"}}) {
    ASSERT_TRUE(aggs_->update(row_of(p), false).is_ok());
  }
  commit(*store_, *aggs_);
  EXPECT_EQ(query("most_followed_user_by_country"),
            (Rows{"DE|dan|50", "FR|bob|500", "IT|zoe|1", "US|fay|7000"}))
      << "a post without poster_name is no candidate, even with more followers or on a tie";
  EXPECT_EQ(query("country_with_most_followed_user"), (Rows{"US|7000"}));
  EXPECT_EQ(query("most_popular_category_by_country"), (Rows{"DE|food|2", "FR|art|3", "US|art|1"}))
      << "posts without category count in no category view";
}

TEST(ViewsConfig, ErrorsNameFileLineColumnAndKey) {
  TempDir dir;
  auto store = std::move(StateStore::open((dir / "db").string())).value();
  core::ConfigNode aroot =
      parse("aggregates:\n  c: {group_by: [country, post_year], measure: count}\n");
  auto aggs =
      std::move(Aggregates::build(*store, *aroot.find("aggregates"), posts_schema(), "")).value();
  struct Case {
    std::string yaml, expect;
  };
  std::vector<Case> cases = {
      {"views:\n  v: {from: c, columns: {country: country}, sort: asc}\n", "views.yaml:2:"},
      {"views:\n  v: {from: c, columns: {country: country}, sort: asc}\n", "unknown key 'sort'"},
      {"views:\n  v: {from: nope, columns: {country: country}}\n", "unknown aggregate 'nope'"},
      {"views:\n  v: {from: c, columns: {country: nope}}\n", "unknown column 'nope'"},
      {"views:\n  v: {from: c, columns: {}}\n", "expected {output_name"},
      {"views:\n  v: {from: c, columns: {country: country}, where: {post_year: {min: 1, step: "
       "2}}}\n",
       "unknown key 'step'"},
      {"views:\n  v: {from: c, columns: {country: country}, top: {per: [country], order_by: count, "
       "n: 0}}\n",
       "must be positive"},
      {"views:\n  v: {from: c, columns: {country: country}, top: {per: [country], order_by: count, "
       "by: 1}}\n",
       "unknown key 'by'"},
      {"views:\n  v: {columns: {country: country}}\n", "from"},
  };
  for (const auto& c : cases) {
    core::ConfigNode root = parse(c.yaml, "views.yaml");
    auto v = Views::build(*root.find("views"), *aggs);
    ASSERT_FALSE(v.has_value()) << c.yaml;
    EXPECT_EQ(v.error().code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(v.error().message().find(c.expect), std::string::npos)
        << c.yaml << " -> " << v.error().message();
    EXPECT_NE(v.error().message().find("views.yaml:"), std::string::npos) << v.error().message();
  }
}

}  // namespace
}  // namespace pinstream::state
