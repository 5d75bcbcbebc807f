// The files source's object path (a folder of objects in a store, read in ranged GETs),
// driven through the local store so that it runs without S3: chunking, the last line of an
// object, positions that restore, objects that appear later.
#include <gtest/gtest.h>

#include "connectors/files/file_partition.h"
#include "connectors/files/file_position.h"
#include "connectors/files/object_input.h"
#include "connectors/objstore/local_store.h"
#include "tests/support/test_support.h"

namespace pinstream::connectors::files {
namespace {

using pinstream::testing::TempDir;

std::shared_ptr<objstore::ObjectStore> store_on(const TempDir& dir) {
  return objstore::make_local_store(dir.path().string());
}

std::map<std::string, uint64_t> listed(objstore::ObjectStore& store, const std::string& prefix) {
  std::map<std::string, uint64_t> out;
  auto all = store.list(prefix);
  EXPECT_TRUE(all.has_value());
  for (const auto& o : *all) out[o.key.substr(prefix.size())] = o.size;
  return out;
}

// Reads everything the partition has now; "position|bytes|cut" per record.
std::vector<std::string> read_all(FilePartition& p, size_t want = 2) {
  std::vector<std::string> out;
  core::Batch batch;
  for (int i = 0; i < 100; ++i) {
    batch.clear();
    auto n = p.read(0, batch, want);
    EXPECT_TRUE(n.has_value()) << (n ? "" : n.error().message());
    for (size_t k = 0; k < batch.size; ++k) {
      const auto& r = batch.records[k];
      out.push_back(r.position + "|" + r.bytes + "|" + std::to_string(static_cast<int>(r.cut)));
    }
    if (p.at_end()) break;
  }
  return out;
}

TEST(ObjectInput, ReadsAnObjectInChunksOfTheAskedSize) {
  TempDir dir;
  auto store = store_on(dir);
  ASSERT_TRUE(store->put("a.json", "first\nsecond line\nthird\n").is_ok());
  LineReader reader(0);
  reader.open(std::make_unique<ObjectInput>(store, "a.json", 24, /*chunk_bytes=*/4));
  std::vector<std::string> lines;
  LineReader::Line line;
  for (;;) {
    auto got = reader.next(line);
    ASSERT_TRUE(got.has_value());
    if (!*got) break;
    lines.emplace_back(line.bytes);
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"first", "second line", "third"}));
  EXPECT_EQ(reader.consumed(), 24u);
}

TEST(ObjectInput, AnObjectGoneBeforeItIsReadIsNotFound) {
  TempDir dir;
  auto store = store_on(dir);
  ObjectInput input(store, "missing.json", 10);
  char buf[16];
  auto got = input.read(buf, sizeof buf);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), core::StatusCode::kNotFound);
}

TEST(FilesObjects, ReadsObjectsInOffsetOrderAndTheLastLineWithoutNewlineWhole) {
  TempDir dir;
  auto store = store_on(dir);
  const std::string folder = "topics/t/partition=0/";
  ASSERT_TRUE(store->put(folder + "t+0+10.json", "c\nd").is_ok());
  ASSERT_TRUE(store->put(folder + "t+0+2.json", "a\n\nb\n").is_ok());
  FilePartition p({"t/0", 0}, store, folder, "*.json", 0);
  p.set_objects(listed(*store, folder));
  p.list();
  EXPECT_EQ(read_all(p), (std::vector<std::string>{"t+0+2.json:1|a|0", "t+0+2.json:3|b|0",
                                                   "t+0+10.json:1|c|0", "t+0+10.json:2|d|0"}));
  EXPECT_TRUE(p.at_end());
  EXPECT_EQ(p.lag_bytes(), 0);
  EXPECT_FALSE(p.release_partial()) << "an object's last line does not wait";
}

TEST(FilesObjects, APositionRestoresAndNewObjectsAreReadAfterTheListing) {
  TempDir dir;
  auto store = store_on(dir);
  const std::string folder = "topics/t/partition=3/";
  ASSERT_TRUE(store->put(folder + "t+3+0.json", "1\n2\n3").is_ok());
  std::string position;
  {
    FilePartition p({"t/3", 0}, store, folder, "*.json", 0);
    p.set_objects(listed(*store, folder));
    p.list();
    core::Batch batch;
    ASSERT_EQ(*p.read(0, batch, 2), 2u);
    position = *p.position();
  }
  FilePartition p({"t/3", 0}, store, folder, "*.json", 0);
  p.set_objects(listed(*store, folder));
  p.restore(position);
  EXPECT_EQ(read_all(p), std::vector<std::string>{"t+3+0.json:3|3|0"});
  EXPECT_EQ(read_all(p), std::vector<std::string>{}) << "the last line is handed out once";
  ASSERT_TRUE(store->put(folder + "t+3+3.json", "4\n").is_ok());
  EXPECT_EQ(read_all(p), std::vector<std::string>{}) << "not listed yet";
  p.set_objects(listed(*store, folder));
  p.list();
  EXPECT_FALSE(p.at_end());
  EXPECT_EQ(read_all(p), std::vector<std::string>{"t+3+3.json:1|4|0"});
  FilePosition pos;
  ASSERT_TRUE(decode_position(*p.position(), pos));
  EXPECT_EQ(pos.file, "t+3+3.json");
  EXPECT_EQ(pos.done, std::vector<std::string>{"t+3+0.json"});
}

TEST(FilesObjects, AnObjectListedButGoneIsPassedOver) {
  TempDir dir;
  auto store = store_on(dir);
  const std::string folder = "topics/t/partition=0/";
  ASSERT_TRUE(store->put(folder + "t+0+0.json", "1\n").is_ok());
  ASSERT_TRUE(store->put(folder + "t+0+1.json", "2\n").is_ok());
  FilePartition p({"t/0", 0}, store, folder, "*.json", 0);
  auto objects = listed(*store, folder);
  objects.erase("t+0+0.json");  // deleted by retention between two listings
  p.set_objects(objects);
  p.list();
  EXPECT_EQ(read_all(p), std::vector<std::string>{"t+0+1.json:1|2|0"});
}

}  // namespace
}  // namespace pinstream::connectors::files
