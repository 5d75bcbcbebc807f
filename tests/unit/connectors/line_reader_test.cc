#include "connectors/files/line_reader.h"

#include <gtest/gtest.h>

#include <fstream>

#include "connectors/files/file_position.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::files {
namespace {
using pinstream::testing::TempDir;
using pinstream::testing::write_file;

std::vector<std::string> lines(LineReader& r) {
  std::vector<std::string> out;
  LineReader::Line line;
  for (;;) {
    auto got = r.next(line);
    EXPECT_TRUE(got.has_value());
    if (!got || !*got) return out;
    out.emplace_back(line.bytes);
  }
}

TEST(LineReader, HandsOutOnlyCompleteLinesOfAGrowingFile) {
  TempDir dir;
  auto path = dir.path() / "f.json";
  write_file(path, "a\r\nbb\n\nccc");
  LineReader r(100);
  ASSERT_TRUE(r.open(path.string()).is_ok());
  EXPECT_EQ(lines(r), (std::vector<std::string>{"a", "bb", ""}));
  EXPECT_TRUE(r.has_partial());
  EXPECT_EQ(r.consumed(), 7u);
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << "c\ndd\n";
  }
  EXPECT_EQ(lines(r), (std::vector<std::string>{"cccc", "dd"}));
  EXPECT_FALSE(r.has_partial());
  EXPECT_EQ(r.consumed(), 15u);
  EXPECT_EQ(r.open((dir.path() / "none").string()).code(), core::StatusCode::kNotFound);
}

TEST(LineReader, LinesAcrossManyReadsAndAtTheLimit) {
  TempDir dir;
  std::string text, expect_last(200 * 1024 + 1, 'q');
  for (int i = 0; i < 20000; ++i) text += std::to_string(i) + "\n";
  text += expect_last + "\n";
  write_file(dir.path() / "f", text);
  LineReader r(200 * 1024);  // a line of limit + 1 bytes (room for a "\r") is still whole
  ASSERT_TRUE(r.open((dir.path() / "f").string()).is_ok());
  auto got = lines(r);
  ASSERT_EQ(got.size(), 20001u);
  EXPECT_EQ(got[12345], "12345");
  EXPECT_EQ(got.back(), expect_last);
  EXPECT_EQ(r.consumed(), text.size());
}

TEST(LineReader, TheBufferGrownForALongLineShrinksAfterIt) {
  TempDir dir;
  std::string text(1 << 20, 'x');
  text += "\n";
  for (int i = 0; i < 200000; ++i) text += std::to_string(i) + "\n";
  write_file(dir.path() / "f", text);
  LineReader r(2 << 20);
  ASSERT_TRUE(r.open((dir.path() / "f").string()).is_ok());
  LineReader::Line line;
  ASSERT_TRUE(*r.next(line));
  EXPECT_EQ(line.bytes.size(), 1u << 20);
  EXPECT_GT(r.buffer_bytes(), 1u << 20);
  for (int i = 0; i < 200000; ++i) {
    ASSERT_TRUE(*r.next(line));
    ASSERT_EQ(line.bytes, std::to_string(i));
  }
  EXPECT_LT(r.buffer_bytes(), 512u * 1024);
}

TEST(LineReader, AnOversizedLineKeepsItsPrefixAndIsHashedWhole) {
  TempDir dir;
  std::string big(1 << 20, 'b');
  big[5] = '\r';  // a "\r" inside the line is part of it
  write_file(dir.path() / "f", big + "\r\nnext\n");
  LineReader r(1000, 16);
  ASSERT_TRUE(r.open((dir.path() / "f").string()).is_ok());
  LineReader::Line line;
  ASSERT_TRUE(*r.next(line));
  EXPECT_TRUE(line.oversized);
  EXPECT_EQ(line.bytes, big.substr(0, 16));
  EXPECT_EQ(line.size, big.size());
  EXPECT_EQ(line.sha256, core::sha256_hex(big));
  ASSERT_TRUE(*r.next(line));
  EXPECT_FALSE(line.oversized);
  EXPECT_EQ(line.bytes, "next");
  EXPECT_EQ(r.consumed(), big.size() + 2 + 5);
}

TEST(FilePositions, RoundTripWithFrontCodedNames) {
  FilePosition p;
  p.file = "t+0+0000000300.json";
  p.line = 17;
  p.done = {"t+0+0000000000.json", "t+0+0000000100.json", "t+0+0000000200.json", "zz"};
  std::string text = encode_position(p);
  EXPECT_EQ(text, R"({"file":"t+0+0000000300.json","line":17,"done":[[0,"t+0+0000000000.json"],)"
                  R"([11,"100.json"],[11,"200.json"],[0,"zz"]]})");
  FilePosition back;
  ASSERT_TRUE(decode_position(text, back));
  EXPECT_EQ(back.file, p.file);
  EXPECT_EQ(back.line, 17);
  EXPECT_EQ(back.done, p.done);
  EXPECT_FALSE(back.legacy);
}

TEST(FilePositions, TheOlderNameLineFormatStillDecodes) {
  FilePosition p;
  ASSERT_TRUE(decode_position("a+0+1.json:17", p));
  EXPECT_TRUE(p.legacy);
  EXPECT_EQ(p.file, "a+0+1.json");
  EXPECT_EQ(p.line, 17);
  ASSERT_TRUE(decode_position("{odd name}:3", p));
  EXPECT_EQ(p.file, "{odd name}");
  for (const char* bad : {"nocolon", "f:x", "{\"file\":1,\"line\":2,\"done\":[]}",
                          "{\"file\":\"f\",\"line\":-1,\"done\":[]}",
                          "{\"file\":\"f\",\"line\":1,\"done\":[[5,\"x\"]]}"})
    EXPECT_FALSE(decode_position(bad, p)) << bad;
}

}  // namespace
}  // namespace pinstream::connectors::files
