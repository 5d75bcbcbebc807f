// The short time slice the query loop thread asks for (core/thread_slice.h): on kernels
// with EEVDF custom slices (6.12+) it is set on the calling thread only, keeping its nice.
#include "stream/core/thread_slice.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

namespace pinstream::core {
namespace {

struct Attr {  // struct sched_attr, first version
  uint32_t size;
  uint32_t policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
};

uint64_t slice_of_this_thread() {
  Attr a{};
  if (::syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) != 0) return 0;
  return a.runtime;
}

bool kernel_has_custom_slices() {
  utsname u{};
  int major = 0, minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 12);
}

TEST(ThreadSlice, TheCallingThreadGetsTheSliceAndKeepsItsNiceOthersKeepTheirs) {
  if (!kernel_has_custom_slices()) GTEST_SKIP() << "kernel without EEVDF custom slices";
  uint64_t before_other = 0, after_other = 0, mine = 0;
  int nice_before = 0, nice_after = 0;
  std::thread t([&] {
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 3);
    nice_before = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
    ASSERT_TRUE(request_short_slice(200'000));
    mine = slice_of_this_thread();
    nice_after = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
  });
  before_other = slice_of_this_thread();
  t.join();
  after_other = slice_of_this_thread();
  EXPECT_EQ(mine, 200'000u);
  EXPECT_EQ(nice_before, 3);
  EXPECT_EQ(nice_after, 3);
  EXPECT_EQ(before_other, after_other);
  EXPECT_NE(after_other, 200'000u);
}

}  // namespace
}  // namespace pinstream::core
