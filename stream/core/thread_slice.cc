#include "stream/core/thread_slice.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace pinstream::core {
namespace {

// The kernel's struct sched_attr, first version (SCHED_ATTR_SIZE_VER0 = 48 bytes): glibc
// has no wrapper and <linux/sched/types.h> clashes with <sched.h>.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48);

}  // namespace

bool request_short_slice(uint64_t slice_ns) {
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = SCHED_OTHER;
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
  if (errno != 0) return false;
  attr.sched_nice = nice;
  attr.sched_runtime = slice_ns;
  return ::syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

}  // namespace pinstream::core
