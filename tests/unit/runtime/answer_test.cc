// The renderings of a query Answer: the protocol's JSON line, CSV, the CLI's table, error
// answers, and reading a line back as the CLI does.
#include "stream/query/answer.h"

#include <gtest/gtest.h>

#include <limits>

namespace pinstream::runtime {
namespace {
using core::Value;

Answer two_countries() {
  Answer a;
  a.epoch = 3;
  a.columns = {"country", "n"};
  a.rows.push_back({Value::of_string("Côte, d'Ivoire"), Value::of_long(2)});
  a.rows.push_back({Value::of_string("Peru"), Value()});
  return a;
}

// Keys in name order, as the protocol has always printed them.
TEST(AnswerJson, IsTheProtocolLineWithCellsOfEachType) {
  Answer a;
  a.epoch = 7;
  a.columns = {"s", "l", "d", "b", "t", "arr", "none"};
  a.rows.push_back({Value::of_string("x"), Value::of_long(-4), Value::of_double(2.5),
                    Value::of_bool(true), Value::of_timestamp(1614834000LL * 1000000),
                    Value::of_array({1.5, -2.0}), Value()});
  EXPECT_EQ(answer_json(a), R"({"columns":["s","l","d","b","t","arr","none"],"epoch":7,"ok":true,)"
                            R"("rows":[["x",-4,2.5,true,"2021-03-04T05:00:00",[1.5,-2.0],null]],)"
                            R"("tasks":{"covered":1,"total":1}})");
}

TEST(AnswerJson, EscapesQuotesControlCharactersAndReplacesInvalidUtf8) {
  Answer a;
  a.columns = {"c"};
  a.rows.push_back({Value::of_string("say \"hi\"\\\n\t\x01")});
  a.rows.push_back({Value::of_string("bad \xff byte")});
  EXPECT_EQ(answer_json(a),
            "{\"columns\":[\"c\"],\"epoch\":0,\"ok\":true,\"rows\":"
            "[[\"say \\\"hi\\\"\\\\\\n\\t\\u0001\"],[\"bad \xEF\xBF\xBD byte\"]],"
            "\"tasks\":{\"covered\":1,\"total\":1}}");
}

// SPEC section 9: an answer says which tasks it covers; CSV and the table do not.
TEST(AnswerJson, CarriesTheTasksItCovers) {
  Answer a = two_countries();
  a.tasks.covered = 5;
  a.tasks.total = 6;
  const std::string line = answer_json(a);
  EXPECT_NE(line.find(R"("tasks":{"covered":5,"total":6})"), std::string::npos) << line;
  auto back = parse_answer(line);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->tasks.covered, 5);
  EXPECT_EQ(back->tasks.total, 6);
  EXPECT_EQ(answer_csv(a).find("tasks"), std::string::npos);
  EXPECT_EQ(answer_table(a).find("tasks"), std::string::npos);
}

TEST(ErrorJson, NamesTheCodeAndEscapesTheMessage) {
  EXPECT_EQ(error_json(ErrorCode::kUnknownView, "unknown view 'a\"b'"),
            R"({"error":{"code":"unknown_view","message":"unknown view 'a\"b'"},"ok":false})");
  EXPECT_EQ(error_json(ErrorCode::kRequestTooLarge, "x"),
            R"({"error":{"code":"request_too_large","message":"x"},"ok":false})");
}

TEST(ErrorCodes, MapViewFailuresAndHttpStatuses) {
  EXPECT_EQ(view_error_code(core::Status::not_found("x")), ErrorCode::kUnknownView);
  EXPECT_EQ(view_error_code(core::Status::invalid("x")), ErrorCode::kBadParams);
  EXPECT_EQ(view_error_code(core::Status::unavailable("x")), ErrorCode::kUnavailable);
  EXPECT_EQ(view_error_code(core::Status::io("x")), ErrorCode::kInternal);
  EXPECT_EQ(http_status(ErrorCode::kUnknownView), 404);
  EXPECT_EQ(http_status(ErrorCode::kBadParams), 400);
  EXPECT_EQ(http_status(ErrorCode::kBadRequest), 400);
  EXPECT_EQ(http_status(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(http_status(ErrorCode::kUnauthorized), 401);
  EXPECT_EQ(http_status(ErrorCode::kMethodNotAllowed), 405);
  EXPECT_EQ(http_status(ErrorCode::kInternal), 500);
}

TEST(AnswerCsv, QuotesFieldsWithCommasQuotesAndLineBreaks) {
  EXPECT_EQ(answer_csv(two_countries()), "country,n\n\"Côte, d'Ivoire\",2\nPeru,\n");
  Answer a;
  a.columns = {"a,b", "q"};
  a.rows.push_back({Value::of_string("say \"hi\""), Value::of_string("two\nlines")});
  a.rows.push_back({Value::of_string("cr\r"), Value::of_string("plain")});
  EXPECT_EQ(answer_csv(a), "\"a,b\",q\n\"say \"\"hi\"\"\",\"two\nlines\"\n\"cr\r\",plain\n");
}

TEST(AnswerCsv, PrintsCellsAsTheirJsonValuesRead) {
  Answer a;
  a.columns = {"t", "d", "whole", "arr", "b", "nan"};
  a.rows.push_back({Value::of_timestamp(0), Value::of_double(0.1), Value::of_double(3.0),
                    Value::of_array({1.0, 2.5}), Value::of_bool(false),
                    Value::of_double(std::numeric_limits<double>::quiet_NaN())});
  EXPECT_EQ(answer_csv(a),
            "t,d,whole,arr,b,nan\n1970-01-01T00:00:00,0.1,3.0,\"[1.0,2.5]\",false,\n");
}

TEST(AnswerTable, AlignsOnCodePointsWithARuleAndACount) {
  EXPECT_EQ(answer_table(two_countries()),
            "country         n\n"
            "--------------  -\n"
            "Côte, d'Ivoire  2\n"
            "Peru            \n"
            "(2 rows, epoch 3)\n");
  Answer empty;
  empty.epoch = 9;
  empty.columns = {"a"};
  EXPECT_EQ(answer_table(empty), "a\n-\n(0 rows, epoch 9)\n");
}

TEST(ParseAnswer, ReadsBackWhatAnswerJsonWrote) {
  Answer a = two_countries();
  a.rows.push_back({Value::of_string("x"), Value::of_double(2.0)});
  a.rows.push_back({Value::of_string("y"), Value::of_array({0.5})});
  auto back = parse_answer(answer_json(a));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->epoch, 3);
  EXPECT_EQ(back->columns, a.columns);
  EXPECT_EQ(answer_json(*back), answer_json(a));
  EXPECT_EQ(answer_csv(*back), answer_csv(a));
  EXPECT_EQ(answer_table(*back), answer_table(a));
}

TEST(ParseAnswer, AnErrorAnswerIsAStatusOfItsKind) {
  auto unknown = parse_answer(error_json(ErrorCode::kUnknownView, "no view x"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(unknown.error().message(), "unknown_view: no view x");
  EXPECT_EQ(answer_status(error_json(ErrorCode::kBadParams, "p")).code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(answer_status(error_json(ErrorCode::kBadRequest, "p")).code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(answer_status(error_json(ErrorCode::kUnavailable, "p")).code(),
            core::StatusCode::kUnavailable);
  EXPECT_EQ(answer_status(error_json(ErrorCode::kInternal, "p")).code(),
            core::StatusCode::kInternal);
  EXPECT_EQ(answer_status(R"({"error":{"code":"new_code","message":"m"},"ok":false})").message(),
            "new_code: m");
  EXPECT_TRUE(answer_status(R"({"ok":true,"views":[]})").is_ok());
}

TEST(ParseAnswer, ALineThatIsNoAnswerIsCorruption) {
  for (const char* line : {"", "not json", "[1]", R"({"ok":true,"columns":"x","rows":[]})"}) {
    auto a = parse_answer(line);
    ASSERT_FALSE(a) << line;
    EXPECT_EQ(a.error().code(), core::StatusCode::kCorruption) << line;
    EXPECT_EQ(a.error().message(), std::string("malformed answer: ") + line);
  }
}

}  // namespace
}  // namespace pinstream::runtime
