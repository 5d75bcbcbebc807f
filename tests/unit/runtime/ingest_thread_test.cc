// The ingest thread's handoff: items arrive in order, empty polls are never handed out,
// pause() parks the producer (nothing is filled until resume()), an error stops it, and an
// item is reused only once the encoder is done with its rows.
#include "stream/ingest_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace pinstream::runtime {
namespace {

using namespace std::chrono_literals;

// Fills one record per call carrying a running sequence number; every third call polls
// nothing (an empty item, which must be recycled, not delivered).
struct Counter {
  std::atomic<int> calls{0}, seq{0};
  void fill(IngestItem& item, bool seal) {
    if (seal) {
      item.seal = std::make_unique<IngestSeal>();
      item.seal->positions["p"] = std::to_string(seq.load());  // records before the seal
      return;
    }
    int c = calls++;
    if (c % 3 == 2) return;
    core::RawRecord& r = item.batch.next();
    r.position = std::to_string(seq++);
  }
};

IngestItem* wait_next(IngestThread& t) {
  for (int i = 0; i < 200; ++i)
    if (IngestItem* item = t.next(10ms)) return item;
  return nullptr;
}

TEST(IngestThread, DeliversFilledItemsInOrderAndSkipsEmptyOnes) {
  Counter c;
  IngestThread t([&](IngestItem& item, bool seal) { c.fill(item, seal); }, 2);
  t.start();
  for (int want = 0; want < 50; ++want) {
    IngestItem* item = wait_next(t);
    ASSERT_NE(item, nullptr);
    ASSERT_EQ(item->batch.size, 1u);
    EXPECT_EQ(item->batch.records[0].position, std::to_string(want));
    t.release(item);
  }
}

TEST(IngestThread, PauseParksTheProducerUntilResume) {
  Counter c;
  IngestThread t([&](IngestItem& item, bool seal) { c.fill(item, seal); }, 3);
  t.start();
  IngestItem* first = wait_next(t);
  ASSERT_NE(first, nullptr);
  t.release(first);
  t.pause();
  // Drain what was filled before the pause; then nothing more may come.
  int drained = 0;
  while (IngestItem* item = t.next(0ms)) {
    t.release(item);
    ++drained;
  }
  EXPECT_LE(drained, 4);  // depth + the one being filled when pause() was called
  const int calls = c.calls.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(c.calls.load(), calls) << "filled while paused";
  EXPECT_EQ(t.next(20ms), nullptr);
  t.resume();
  IngestItem* after = wait_next(t);
  ASSERT_NE(after, nullptr);
  EXPECT_GT(c.calls.load(), calls);
  t.release(after);
}

TEST(IngestThread, AtMostDepthItemsWaitUnconsumed) {
  Counter c;
  IngestThread t([&](IngestItem& item, bool seal) { c.fill(item, seal); }, 2);
  t.start();
  std::this_thread::sleep_for(50ms);  // the producer runs ahead until the pool is used up
  t.pause();
  int waiting = 0;
  while (IngestItem* item = t.next(0ms)) {
    t.release(item);
    ++waiting;
  }
  EXPECT_GE(waiting, 2);
  EXPECT_LE(waiting, 3);
}

// A seal comes after every record polled before it and before every one polled after.
TEST(IngestThread, ASealSplitsTheItemStreamWhereTheProducerWas) {
  Counter c;
  IngestThread t([&](IngestItem& item, bool seal) { c.fill(item, seal); }, 2);
  t.start();
  int next = 0, seals = 0;
  for (int round = 0; round < 5; ++round) {
    for (int k = 0; k < 7; ++k) {
      IngestItem* item = wait_next(t);
      ASSERT_NE(item, nullptr);
      ASSERT_FALSE(item->seal);
      ASSERT_EQ(item->batch.records[0].position, std::to_string(next++));
      t.release(item);
    }
    t.request_seal(false);
    while (true) {  // the items filled before the request still come first
      IngestItem* item = wait_next(t);
      ASSERT_NE(item, nullptr);
      if (item->seal) {
        EXPECT_EQ(item->seal->positions["p"], std::to_string(next))
            << "the seal must follow every record before it";
        ++seals;
        t.release(item);
        break;
      }
      ASSERT_EQ(item->batch.records[0].position, std::to_string(next++));
      t.release(item);
    }
  }
  EXPECT_EQ(seals, 5);
  // With then_park the producer stops after the seal until resumed.
  t.request_seal(true);
  IngestItem* item = nullptr;
  while ((item = wait_next(t)) && !item->seal) t.release(item);
  ASSERT_NE(item, nullptr);
  t.release(item);
  const int calls = c.calls.load();
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ(c.calls.load(), calls) << "polled while parked after a seal";
  t.resume();
  IngestItem* after = wait_next(t);
  ASSERT_NE(after, nullptr);
  EXPECT_FALSE(after->seal);
  t.release(after);
}

// The engine stops a run with request_seal(true) even when an ordinary seal is pending: the
// two requests make one seal marked last, and a later request never undoes the park.
TEST(IngestThread, ALastSealRequestIsNeverDowngraded) {
  Counter c;
  IngestThread t([&](IngestItem& item, bool seal) { c.fill(item, seal); }, 2);
  t.start();
  auto next_seal = [&] {
    IngestItem* item = nullptr;
    while ((item = wait_next(t)) && !item->seal) t.release(item);
    return item;
  };
  t.pause();
  while (IngestItem* item = t.next(0ms)) t.release(item);
  t.request_seal(false);
  t.request_seal(true);
  t.request_seal(false);
  t.resume();
  IngestItem* seal = next_seal();
  ASSERT_NE(seal, nullptr);
  EXPECT_TRUE(seal->seal->last);
  t.release(seal);
  const int calls = c.calls.load();
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ(c.calls.load(), calls) << "polled after the last seal";
  EXPECT_EQ(t.next(10ms), nullptr) << "a second seal after the last one";
  // An ordinary seal delivered before the stop's request is not the last one.
  t.resume();
  t.request_seal(false);
  IngestItem* first = next_seal();
  ASSERT_NE(first, nullptr);
  EXPECT_FALSE(first->seal->last);
  t.release(first);
  t.request_seal(true);
  IngestItem* second = next_seal();
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(second->seal->last);
  t.release(second);
}

TEST(IngestThread, AnErrorIsDeliveredAndStopsTheProducer) {
  std::atomic<int> calls{0};
  IngestThread t(
      [&](IngestItem& item, bool) {
        if (calls++ == 1)
          item.error = core::Status::io("disk gone");
        else
          item.batch.next().position = "p";
      },
      2);
  t.start();
  IngestItem* ok = wait_next(t);
  ASSERT_NE(ok, nullptr);
  EXPECT_TRUE(ok->error.is_ok());
  t.release(ok);
  IngestItem* bad = wait_next(t);
  ASSERT_NE(bad, nullptr);
  EXPECT_FALSE(bad->error.is_ok());
  EXPECT_NE(bad->error.message().find("disk gone"), std::string::npos);
  t.release(bad);
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(calls.load(), 2) << "polled again after an error";
  EXPECT_EQ(t.next(10ms), nullptr);
}

// An item whose rows are still being encoded (IngestItem::encoding, stream/table_encoder.h)
// is not filled again before the reuse wait returns: the producer waits for it rather than
// overwrite rows a job still reads.
TEST(IngestThread, AnItemIsReusedOnlyOnceItsEncodingJobsAreDone) {
  std::atomic<int> overwritten{0};
  std::mutex mu;
  std::condition_variable cv;
  const IngestItem* waiting_on = nullptr;  // guarded by mu
  Counter c;
  IngestThread t(
      [&](IngestItem& item, bool seal) {
        if (item.encoding.load() != 0) overwritten++;
        c.fill(item, seal);
      },
      2);
  t.set_reuse_wait([&](const IngestItem& item) {
    std::unique_lock<std::mutex> lock(mu);
    waiting_on = &item;
    cv.notify_all();
    cv.wait(lock, [&] { return item.encoding.load() == 0; });
    waiting_on = nullptr;
  });
  t.start();
  // Every item goes back with a job still counted: the producer uses up the pool, then
  // waits for one of them.
  std::set<IngestItem*> held;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (waiting_on) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the producer never waited";
    if (IngestItem* item = t.next(10ms)) {
      item->encoding = 1;
      held.insert(item);
      t.release(item);
    }
  }
  IngestItem* waited = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu);
    waited = const_cast<IngestItem*>(waiting_on);
  }
  ASSERT_TRUE(held.count(waited));
  const int calls = c.calls.load();
  // Filled items already handed out drain; nothing new is filled while the wait lasts.
  while (IngestItem* item = t.next(20ms)) {
    item->encoding = 1;
    held.insert(item);
    t.release(item);
  }
  EXPECT_EQ(c.calls.load(), calls) << "filled an item whose rows were still being encoded";
  {
    std::lock_guard<std::mutex> lock(mu);
    for (IngestItem* item : held) item->encoding = 0;
  }
  cv.notify_all();
  IngestItem* after = wait_next(t);
  ASSERT_NE(after, nullptr);
  t.release(after);
  EXPECT_GT(c.calls.load(), calls);
  EXPECT_EQ(overwritten.load(), 0);
}

}  // namespace
}  // namespace pinstream::runtime
