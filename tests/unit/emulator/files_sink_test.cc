#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "stream/emulator/generator.h"
#include "stream/emulator/sink.h"
#include "stream/emulator/sinks.h"
#include "tests/support/test_support.h"

namespace pinstream::runtime::emulator {
namespace {

namespace fs = std::filesystem;
using pinstream::testing::read_lines;
using pinstream::testing::TempDir;

TEST(PartitionOf, MatchesLibrdkafkasConsistentPartitioner) {
  // CRC-32 of the key text: crc32("0") = 0xF4DBDF21, crc32("123") = 0x884863D2.
  EXPECT_EQ(partition_of(0, 3), static_cast<int>(0xF4DBDF21u % 3));
  EXPECT_EQ(partition_of(123, 7), static_cast<int>(0x884863D2u % 7));
  EXPECT_EQ(partition_of(42, 1), 0);
  std::map<int, int> spread;
  for (int64_t i = 0; i < 3000; ++i) spread[partition_of(i, 3)]++;
  for (int p = 0; p < 3; ++p) EXPECT_NEAR(spread[p], 1000, 150) << p;
}

TEST(FilesSink, WritesTheS3SinkLayoutWithCoPartitionedTopicsAndRollsFiles) {
  TempDir dir("ps-emu-files");
  auto sink = make_files_sink(dir.path().string(), 3, /*roll_records=*/100);
  Generator gen({.seed = 9});
  Record pin, geo, user;
  const int posts = 1000;
  for (int i = 0; i < posts; ++i) {
    gen.next(pin, geo, user);
    for (const Record* r : {&pin, &geo, &user})
      ASSERT_TRUE(sink->send(std::string("t.") + r->stream, *r).is_ok());
  }
  ASSERT_TRUE(sink->flush().is_ok());
  for (const char* s : {"pin", "geo", "user"}) {
    const std::string topic = std::string("t.") + s;
    size_t lines = 0;
    for (int p = 0; p < 3; ++p) {
      fs::path part = dir.path() / "topics" / topic / ("partition=" + std::to_string(p));
      ASSERT_TRUE(fs::is_directory(part)) << part;
      // Files <topic>+<p>+<startOffset>.json, each start = previous start + its line count.
      std::map<int64_t, fs::path> files;
      for (const auto& e : fs::directory_iterator(part)) {
        std::string name = e.path().filename().string();
        std::string prefix = topic + "+" + std::to_string(p) + "+";
        ASSERT_EQ(name.rfind(prefix, 0), 0u) << name;
        ASSERT_EQ(e.path().extension(), ".json");
        files[std::stoll(name.substr(prefix.size()))] = e.path();
      }
      ASSERT_GE(files.size(), 2u);
      int64_t expect_start = 0;
      for (const auto& [start, path] : files) {
        EXPECT_EQ(start, expect_start);
        auto ls = read_lines(path);
        EXPECT_LE(ls.size(), 100u);
        for (const auto& l : ls) {
          auto j = nlohmann::json::parse(l);
          int64_t ind = j.contains("index") ? j["index"].get<int64_t>() : j["ind"].get<int64_t>();
          EXPECT_EQ(partition_of(ind, 3), p) << l;
        }
        expect_start += static_cast<int64_t>(ls.size());
        lines += ls.size();
      }
    }
    EXPECT_EQ(lines, static_cast<size_t>(posts));
  }
}

TEST(MakeSink, NamesWhatIsMissingOrUnknown) {
  EXPECT_FALSE(make_sink("files", {}).has_value());
  EXPECT_NE(make_sink("files", {}).error().message().find("--out"), std::string::npos);
  EXPECT_NE(make_sink("kafka-rest", {}).error().message().find("--rest-url"), std::string::npos);
  {
    // Without credentials the Kinesis sink says which variables to set (and sends nothing).
    const char* id = std::getenv("AWS_ACCESS_KEY_ID");
    std::string saved = id ? id : "";
    ::unsetenv("AWS_ACCESS_KEY_ID");
    auto k = make_sink("kinesis", {});
    if (id) ::setenv("AWS_ACCESS_KEY_ID", saved.c_str(), 1);
    ASSERT_FALSE(k.has_value());
    EXPECT_NE(k.error().message().find("AWS_ACCESS_KEY_ID"), std::string::npos)
        << k.error().message();
  }
  EXPECT_NE(make_sink("carrier-pigeon", {}).error().message().find("unknown sink"),
            std::string::npos);
}

}  // namespace
}  // namespace pinstream::runtime::emulator
