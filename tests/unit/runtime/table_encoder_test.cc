// The table encoder (stream/table_encoder.h): every queued row is in the writer once wait()
// returns, in the order queued; the counters of a job (its table's, its item's) drop only
// when it is done; the first encode error reaches every later submit and wait; cancel()
// drops what is queued and releases its counters.
#include "stream/table_encoder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "connectors/delta/table.h"
#include "connectors/parquet/reader.h"
#include "tests/support/test_support.h"

namespace pinstream::runtime {
namespace {
using connectors::delta::DeltaTable;

core::Schema schema() {
  return core::Schema({{"ind", core::Type::kLong, false}, {"text", core::Type::kString, true}});
}

// `n` rows ind = first..first+n-1, and the pointers to them in jobs of `per_job`.
struct Batch {
  std::vector<core::Row> rows;
  std::vector<TableEncoder::Rows> jobs;
  Batch(int64_t first, size_t n, size_t per_job) {
    for (size_t i = 0; i < n; ++i)
      rows.push_back(
          {core::Value::of_long(first + static_cast<int64_t>(i)),
           core::Value::of_string("row " + std::to_string(first + static_cast<int64_t>(i)))});
    for (size_t i = 0; i < n; i += per_job) {
      TableEncoder::Rows job;
      for (size_t j = i; j < std::min(n, i + per_job); ++j) job.push_back(&rows[j]);
      jobs.push_back(std::move(job));
    }
  }
};

struct Fixture {
  testing::TempDir dir{"pinstream-encoder"};
  std::unique_ptr<DeltaTable> table;
  std::unique_ptr<connectors::delta::TableWriter> writer;
  std::atomic<int> queued{0}, encoding{0};
  std::atomic<int64_t> cpu_us{0};
  Fixture() {
    auto t = DeltaTable::open((dir.path() / "t").string(), "t", schema());
    EXPECT_TRUE(t.has_value()) << t.error().message();
    table = std::move(*t);
    writer = table->new_writer();
  }
  core::Status submit(TableEncoder& e, TableEncoder::Rows rows, bool wake) {
    TableEncoder::Rows spare;
    core::Status st =
        e.submit({writer.get(), std::move(rows), &queued, &encoding, &cpu_us}, spare, wake);
    EXPECT_TRUE(spare.empty());
    return st;
  }
};

TEST(TableEncoder, EveryQueuedRowIsInTheWriterInOrderWhenWaitReturns) {
  Fixture f;
  TableEncoder e;
  Batch b(0, 5000, 128);
  for (size_t i = 0; i < b.jobs.size(); ++i)
    ASSERT_TRUE(f.submit(e, b.jobs[i], i + 1 == b.jobs.size()).is_ok());
  ASSERT_TRUE(e.wait(f.queued).is_ok());
  EXPECT_EQ(f.queued.load(), 0);
  EXPECT_EQ(f.encoding.load(), 0);
  EXPECT_EQ(f.writer->rows(), 5000);
  EXPECT_GT(e.stats().jobs, 0);
  auto adds = f.writer->finish();
  ASSERT_TRUE(adds.has_value()) << adds.error().message();
  ASSERT_EQ(adds->size(), 1u);
  EXPECT_EQ((*adds)[0].num_records, 5000);
  // In the order queued: the file's `ind` column reads 0, 1, ..., 4999.
  auto contents = connectors::parquet::read_file((f.dir.path() / "t" / (*adds)[0].path).string());
  ASSERT_TRUE(contents.has_value()) << contents.error().message();
  ASSERT_EQ(contents->leaves.at(0).values.size(), 5000u);
  for (int64_t i = 0; i < 5000; ++i)
    ASSERT_EQ(contents->leaves[0].values[static_cast<size_t>(i)].i, i) << "row " << i;
}

TEST(TableEncoder, WaitWakesAnEncoderLeftIdleWithJobsQueued) {
  Fixture f;
  TableEncoder e;
  Batch b(0, 3 * 128, 128);
  for (const auto& job : b.jobs) ASSERT_TRUE(f.submit(e, job, /*wake=*/false).is_ok());
  // Fewer than kWakeJobs and no item end: nothing woke the encoder; wait() must.
  ASSERT_TRUE(e.wait(f.encoding).is_ok());
  EXPECT_EQ(f.writer->rows(), 3 * 128);
}

TEST(TableEncoder, AnEncodeErrorReachesEveryLaterSubmitAndWait) {
  Fixture f;
  TableEncoder e;
  Batch good(0, 256, 128);
  std::vector<core::Row> bad = {
      {core::Value::of_string("not a long"), core::Value::of_string("x")}};
  ASSERT_TRUE(f.submit(e, good.jobs[0], true).is_ok());
  ASSERT_TRUE(f.submit(e, {&bad[0]}, true).is_ok());  // queued: its error comes later
  core::Status st = e.wait(f.queued);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), core::StatusCode::kInvalidArgument) << st.to_string();
  EXPECT_EQ(f.queued.load(), 0);
  EXPECT_EQ(f.encoding.load(), 0);
  core::Status again = f.submit(e, good.jobs[1], true);
  EXPECT_EQ(again.to_string(), st.to_string());
  EXPECT_EQ(e.wait(f.encoding).to_string(), st.to_string());
  EXPECT_EQ(f.writer->rows(), 128);  // nothing after the error was encoded
}

TEST(TableEncoder, AWriteErrorOnTheEncoderThreadIsReturned) {
  Fixture f;
  // The table's directory is a file now: the writer cannot create its data file.
  std::filesystem::remove_all(f.dir.path() / "t");
  std::ofstream(f.dir.path() / "t") << "in the way";
  TableEncoder e;
  Batch b(0, 128, 128);
  ASSERT_TRUE(f.submit(e, b.jobs[0], true).is_ok());
  core::Status st = e.wait(f.queued);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), core::StatusCode::kIoError) << st.to_string();
}

TEST(TableEncoder, CancelDropsQueuedJobsReleasesTheirCountersAndRefusesMore) {
  Fixture f;
  TableEncoder e;
  Batch b(0, 3 * 128, 128);
  for (const auto& job : b.jobs) ASSERT_TRUE(f.submit(e, job, /*wake=*/false).is_ok());
  e.cancel();
  EXPECT_EQ(f.queued.load(), 0);
  EXPECT_EQ(f.encoding.load(), 0);
  EXPECT_LE(f.writer->rows(), 3 * 128);
  EXPECT_FALSE(f.submit(e, b.jobs[0], true).is_ok());
  EXPECT_EQ(f.queued.load(), 0);
  // A writer whose jobs were dropped is never taken as complete.
  EXPECT_FALSE(e.wait(f.queued).is_ok());
}

}  // namespace
}  // namespace pinstream::runtime
