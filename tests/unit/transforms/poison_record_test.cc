// Hostile records: nesting deep enough to overflow a recursive parser, records far over the
// size limit, a byte order mark. Each is a bounded dead letter (or, for the BOM, a clean
// record), never a crash.
#include <gtest/gtest.h>

#include "stream/core/sha256.h"
#include "tests/support/test_support.h"
#include "transforms/cleaner.h"
#include "transforms/dead_letter.h"
#include "transforms/json_decoder.h"

namespace pinstream::transforms {
namespace {

std::unique_ptr<Cleaner> user_cleaner(size_t max_bytes = 1 << 20) {
  static core::ConfigNode root =
      *core::parse_config_text("input: {ind: long, first_name: string, extra: any}\n", "user.yaml");
  auto c = Cleaner::build(*root.find("input"), nullptr, "ind", max_bytes);
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c ? std::move(*c) : nullptr;
}

std::string nested(size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

const std::string kTooDeep = "too_deep: JSON nests deeper than 128 levels";

TEST(PoisonRecords, AnIgnoredFieldNestedTwoHundredThousandDeepIsTooDeep) {
  auto c = user_cleaner();
  std::string raw = R"({"ind": 1, "ignored": )" + nested(200000) + "}";
  ASSERT_GT(raw.size(), 400000u);
  core::Row row;
  core::Status st = c->clean(raw, row);
  EXPECT_EQ(st.message(), kTooDeep);
  // Unclosed brackets (a truncated attack) are found unbalanced before any descent.
  st = c->clean(R"({"ind": 1, "ignored": )" + std::string(200000, '['), row);
  EXPECT_EQ(st.message(),
            "invalid JSON: JSON document ended early in the middle of an object or array.");
  // Balanced but broken deep inside: the depth is what stops it.
  st = c->clean(
      R"({"ind": 1, "ignored": )" + std::string(200000, '[') + "x" + std::string(200000, ']') + "}",
      row);
  EXPECT_EQ(st.message(), kTooDeep);
  // The decoder is fine afterwards.
  ASSERT_TRUE(c->clean(R"({"ind": 2, "first_name": "A"})", row).is_ok());
  EXPECT_EQ(row[0], core::Value::of_long(2));
}

TEST(PoisonRecords, DepthIsCountedFromTheRecordObject) {
  auto c = user_cleaner();
  core::Row row;
  // The record object is level 1: an ignored value may open 127 more levels.
  const size_t inner = JsonDecoder::kMaxDepth - 1;
  EXPECT_TRUE(c->clean(R"({"ind": 1, "ignored": )" + nested(inner) + "}", row).is_ok());
  EXPECT_EQ(c->clean(R"({"ind": 1, "ignored": )" + nested(inner + 1) + "}", row).message(),
            kTooDeep);
  std::string objects;
  for (size_t i = 0; i < inner; ++i) objects += "{\"k\":";
  objects += "1" + std::string(inner, '}');
  EXPECT_TRUE(c->clean(R"({"ind": 1, "ignored": )" + objects + "}", row).is_ok());
  EXPECT_EQ(c->clean(R"({"ind": 1, "ignored": {"k":)" + objects + "}}", row).message(), kTooDeep);
}

TEST(PoisonRecords, AnyFieldsAndNonObjectsHaveTheSameCap) {
  auto c = user_cleaner();
  core::Row row;
  const size_t inner = JsonDecoder::kMaxDepth - 1;
  ASSERT_TRUE(c->clean(R"({"ind": 1, "extra": )" + nested(inner) + "}", row).is_ok());
  EXPECT_EQ(row[2], core::Value::of_string(nested(inner)));
  EXPECT_EQ(c->clean(R"({"ind": 1, "extra": )" + nested(inner + 1) + "}", row).message(), kTooDeep);
  EXPECT_EQ(c->clean(R"({"ind": 1, "extra": )" + nested(200000) + "}", row).message(), kTooDeep);
  EXPECT_EQ(c->clean(nested(200000), row).message(), kTooDeep);
  EXPECT_EQ(c->clean(nested(JsonDecoder::kMaxDepth), row).message(), "not a JSON object");
  // A declared field of another type is refused without descending into it.
  EXPECT_EQ(c->clean(R"({"ind": 1, "first_name": )" + nested(200000) + "}", row).message(),
            "field 'first_name': an array is not a string");
}

TEST(PoisonRecords, AUtf8ByteOrderMarkIsIgnored) {
  auto c = user_cleaner();
  core::Row row;
  ASSERT_TRUE(c->clean("\xEF\xBB\xBF{\"ind\": 7, \"first_name\": \"B\"}", row).is_ok());
  EXPECT_EQ(row[0], core::Value::of_long(7));
  EXPECT_EQ(row[1], core::Value::of_string("B"));
  // Only at the start, and only once.
  EXPECT_FALSE(c->clean("\xEF\xBB\xBF\xEF\xBB\xBF{\"ind\": 7}", row).is_ok());
  EXPECT_FALSE(c->clean("{\"ind\": 7}\xEF\xBB\xBF", row).is_ok());
  EXPECT_EQ(c->clean("\xEF\xBB\xBF", row).message(), "invalid JSON: Empty: no JSON found");
}

core::RawRecord record(std::string bytes) {
  core::RawRecord r;
  r.bytes = std::move(bytes);
  return r;
}

TEST(DeadLetterRows, ARecordWithinTheLimitIsKeptWhole) {
  DeadLetter d = make_dead_letter(record("{\"ind\": 1"), "invalid JSON: x", 100);
  EXPECT_EQ(d.raw, "{\"ind\": 1");
  EXPECT_EQ(d.encoding, "utf8");
  EXPECT_EQ(d.reason, "invalid JSON: x");
  d = make_dead_letter(record("\xff\xfe"), "invalid UTF-8", 100);
  EXPECT_EQ(d.raw, "//4=");
  EXPECT_EQ(d.encoding, "base64");
}

TEST(DeadLetterRows, ARecordOverTheLimitKeepsAPrefixItsSizeAndHash) {
  std::string big = "{\"ind\": 1, \"x\": \"" + std::string(3 << 20, 'a') + "\"}";
  DeadLetter d = make_dead_letter(record(big), "record of N bytes", 1 << 20);
  EXPECT_EQ(d.raw, big.substr(0, kDeadLetterRawBytes));
  EXPECT_EQ(d.encoding, "utf8");
  EXPECT_EQ(d.reason, "record of N bytes (raw: first 65536 of " + std::to_string(big.size()) +
                          " bytes, sha256 " + core::sha256_hex(big) + ")");
}

TEST(DeadLetterRows, APrefixEndsAtACharacterBoundary) {
  // After one quote, 2-byte characters start at odd offsets: byte 65536 is the second
  // byte of one of them.
  std::string text = "\"";
  while (text.size() < kDeadLetterRawBytes + 10) text += "\xc3\xa9";
  DeadLetter d = make_dead_letter(record(text), "r", 100);
  EXPECT_EQ(d.encoding, "utf8");
  EXPECT_EQ(d.raw.size(), kDeadLetterRawBytes - 1);
  EXPECT_EQ(d.raw, text.substr(0, kDeadLetterRawBytes - 1));
  // Bytes that are not UTF-8 keep exactly the first 64 KiB, in base64.
  std::string binary(kDeadLetterRawBytes * 2, '\xff');
  d = make_dead_letter(record(binary), "r", 100);
  EXPECT_EQ(d.encoding, "base64");
  EXPECT_EQ(d.raw.size(), kDeadLetterRawBytes / 3 * 4 + 4);
}

TEST(DeadLetterRows, ARecordCutByItsSourceUsesTheSourcesSizeAndHash) {
  core::RawRecord r = record(std::string(kDeadLetterRawBytes, 'b'));
  r.cut = core::RecordCut::kOversized;
  r.full_size = 200u << 20;
  r.full_sha256 = std::string(64, 'f');
  EXPECT_EQ(cut_reason(r, 1 << 20), "record of 209715200 bytes exceeds max_record_bytes 1048576");
  DeadLetter d = make_dead_letter(r, cut_reason(r, 1 << 20), 1 << 20);
  EXPECT_EQ(d.raw.size(), kDeadLetterRawBytes);
  EXPECT_EQ(d.reason,
            "record of 209715200 bytes exceeds max_record_bytes 1048576 (raw: first "
            "65536 of 209715200 bytes, sha256 " +
                std::string(64, 'f') + ")");
  core::RawRecord t = record("{\"ind\": 4, \"first");
  t.cut = core::RecordCut::kTruncated;
  t.full_size = t.bytes.size();
  d = make_dead_letter(t, cut_reason(t, 1 << 20), 1 << 20);
  EXPECT_EQ(d.raw, t.bytes);
  EXPECT_EQ(d.reason,
            "truncated: the input ends inside this record (a last line without its "
            "newline)");
}

}  // namespace
}  // namespace pinstream::transforms
