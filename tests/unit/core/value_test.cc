#include "stream/core/value.h"

#include <gtest/gtest.h>

#include <string>

#include "stream/core/schema.h"

namespace pinstream::core {

TEST(Coerce, LongFromIntegralDoubleAndDigits) {
  Value v = Value::of_double(42.0);
  ASSERT_TRUE(coerce(v, Type::kLong).is_ok());
  EXPECT_EQ(v, Value::of_long(42));
  Value s = Value::of_string("-17");
  ASSERT_TRUE(coerce(s, Type::kLong).is_ok());
  EXPECT_EQ(s, Value::of_long(-17));
}

TEST(Coerce, LongRejectsFractionWordsAndOverflowWithReason) {
  Value f = Value::of_double(1.5);
  Status st = coerce(f, Type::kLong);
  EXPECT_EQ(st.message(), "1.5 is not an integer (fractional)");
  Value w = Value::of_string("twenty");
  EXPECT_EQ(coerce(w, Type::kLong).message(), "\"twenty\" is not an integer");
  Value big = Value::of_string("99999999999999999999");
  EXPECT_EQ(coerce(big, Type::kLong).message(),
            "\"99999999999999999999\" is out of range for long");
  Value huge = Value::of_double(1e20);
  EXPECT_FALSE(coerce(huge, Type::kLong).is_ok());
  Value b = Value::of_bool(true);
  EXPECT_FALSE(coerce(b, Type::kLong).is_ok());
}

TEST(Coerce, TimestampFromBothFormats) {
  Value a = Value::of_string("2020-08-28 03:52:47");
  Value b = Value::of_string("2020-08-28T03:52:47");
  ASSERT_TRUE(coerce(a, Type::kTimestamp).is_ok());
  ASSERT_TRUE(coerce(b, Type::kTimestamp).is_ok());
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.to_string(), "2020-08-28T03:52:47");
  Value bad = Value::of_string("28/08/2020");
  EXPECT_FALSE(coerce(bad, Type::kTimestamp).is_ok());
}

TEST(Coerce, NullStaysNullAndStringRejectsNumbers) {
  Value n;
  EXPECT_TRUE(coerce(n, Type::kLong).is_ok());
  EXPECT_TRUE(n.is_null());
  Value l = Value::of_long(3);
  EXPECT_EQ(coerce(l, Type::kString).message(), "3 is not a string");
}

TEST(ValueCompare, OrdersWithinTypeAndNullFirst) {
  EXPECT_LT(Value::of_long(1).compare(Value::of_long(2)), 0);
  EXPECT_LT(Value().compare(Value::of_long(-5)), 0);
  EXPECT_EQ(Value::of_string("a").compare(Value::of_string("a")), 0);
  EXPECT_GT(Value::of_string("b").compare(Value::of_string("a")), 0);
}

}  // namespace pinstream::core

// Reused slots (a batch's records, a row's values) keep their buffers for the next record,
// but not a huge one: rare 1 MB lines must not pin a megabyte per slot for the whole run.
TEST(Reuse, AHugeRecordOrValueDoesNotKeepItsBufferInItsSlot) {
  pinstream::core::Batch batch;
  batch.next().bytes.assign(1 << 20, 'x');
  batch.next().bytes.assign(700, 'y');
  batch.clear();
  EXPECT_LE(batch.next().bytes.capacity(), pinstream::core::Batch::kKeptRecordCapacity);
  EXPECT_GE(batch.next().bytes.capacity(), 700u);  // an ordinary buffer is kept

  pinstream::core::Value v;
  v.set_string(std::string(1 << 20, 'x'));
  v.set_string("small");
  EXPECT_EQ(v.s, "small");
  EXPECT_LE(v.s.capacity(), pinstream::core::Value::kKeptCapacity);
  v.set_string(std::string(2000, 'z'));
  v.set_string("again");
  EXPECT_GE(v.s.capacity(), 2000u);
}
