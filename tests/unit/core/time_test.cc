#include "stream/core/time.h"

#include <gtest/gtest.h>

namespace pinstream::core {

TEST(ParseTimestamp, AcceptsSpaceAndIsoSeparators) {
  auto a = parse_timestamp("2020-08-28 03:52:47");
  auto b = parse_timestamp("2020-08-28T03:52:47");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, int64_t{1598586767} * kMicrosPerSecond);
}

TEST(ParseTimestamp, HandlesFractionsAndOffsets) {
  EXPECT_EQ(*parse_timestamp("1970-01-01T00:00:01.5Z"), 1'500'000);
  EXPECT_EQ(*parse_timestamp("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(*parse_timestamp("1970-01-02"), 86400LL * kMicrosPerSecond);
}

TEST(ParseTimestamp, RejectsImpossibleOrMalformedDates) {
  for (const char* bad :
       {"", "2020-02-30 00:00:00", "2021-13-01 00:00:00", "2020-01-01X00:00:00",
        "2020-01-01 24:00:00", "20200101", "2020-01-01 00:00:00junk", "yesterday"}) {
    EXPECT_FALSE(parse_timestamp(bad).has_value()) << bad;
  }
  EXPECT_TRUE(parse_timestamp("2020-02-29 00:00:00").has_value());
}

TEST(FormatTimestamp, PrintsIsoWithoutZeroFraction) {
  EXPECT_EQ(format_timestamp(*parse_timestamp("2021-03-04 05:00:00")), "2021-03-04T05:00:00");
  EXPECT_EQ(format_timestamp(1), "1970-01-01T00:00:00.000001");
  EXPECT_EQ(format_timestamp(-1'000'000), "1969-12-31T23:59:59");
}

TEST(YearOf, ReturnsCalendarYear) {
  EXPECT_EQ(year_of(*parse_timestamp("2019-12-31 23:59:59")), 2019);
  EXPECT_EQ(year_of(*parse_timestamp("2020-01-01 00:00:00")), 2020);
}

}  // namespace pinstream::core
