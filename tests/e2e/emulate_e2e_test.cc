// `pinstream emulate` without --count, as the seeds' `while True` loop runs: it posts until
// stopped, pausing 0-1 s between posts unless --rate says otherwise, and ends on SIGINT or
// SIGTERM with everything posted flushed and a one-line count.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
namespace fs = std::filesystem;

int64_t lines_under(const fs::path& dir) {
  int64_t n = 0;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) n += static_cast<int64_t>(read_lines(e.path()).size());
  return n;
}

struct Stopped {
  int code = -1;
  std::string output;
  double seconds = 0;
};

// Starts the emulator into files, lets it post for a while, then sends `sig`.
Stopped run_until_signal(const fs::path& dir, const std::string& extra, int sig) {
  const fs::path out = dir / "out", log = dir / "log";
  const std::string cmd = "exec " + pinstream_binary().string() + " emulate --sink files --out '" +
                          out.string() + "' " + extra + " >'" + log.string() + "' 2>&1";
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Let it post for 1.5 s: the files sink writes through stdio buffers, so at two posts a
  // second nothing may show before the stop flushes it.
  EXPECT_TRUE(wait_until(
      [&] { return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(1500); },
      std::chrono::seconds(20)));
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  Stopped s;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  s.output = read_file(log);
  return s;
}

int64_t posted(const std::string& output) {
  const std::string tag = "emulated ";
  size_t at = output.find(tag);
  return at == std::string::npos ? -1 : std::stoll(output.substr(at + tag.size()));
}

TEST(EmulateUntilStopped, SigtermEndsItCleanlyWithTheCountOfWhatItFlushed) {
  TempDir dir("ps-emulate-term");
  Stopped s = run_until_signal(dir.path(), "", SIGTERM);
  EXPECT_EQ(s.code, 0) << s.output;
  const int64_t n = posted(s.output);
  ASSERT_GE(n, 1) << s.output;
  EXPECT_NE(s.output.find(std::to_string(n) + " posts (" + std::to_string(3 * n) +
                          " records) into files (stopped)"),
            std::string::npos)
      << s.output;
  EXPECT_EQ(std::count(s.output.begin(), s.output.end(), '\n'), 1) << s.output;
  // Every post counted was flushed: three records each.
  EXPECT_EQ(lines_under(dir.path() / "out/topics/pinterest.pin"), n);
  EXPECT_EQ(lines_under(dir.path() / "out/topics"), 3 * n);
  // 0-1 s between posts: about two a second, nowhere near as fast as possible.
  EXPECT_LE(static_cast<double>(n), s.seconds * 5 + 2) << s.output;
}

TEST(EmulateUntilStopped, SigintWithARateStopsMidStream) {
  TempDir dir("ps-emulate-int");
  Stopped s = run_until_signal(dir.path(), "--rate 100/s", SIGINT);
  EXPECT_EQ(s.code, 0) << s.output;
  const int64_t n = posted(s.output);
  EXPECT_GE(n, 50) << s.output;  // 1.5 s at 100/s
  EXPECT_LE(static_cast<double>(n), s.seconds * 100 + 5) << s.output;
  EXPECT_EQ(lines_under(dir.path() / "out/topics/pinterest.pin"), n);
}

TEST(EmulateUntilStopped, ANegativeCountIsAUsageError) {
  std::string out;
  EXPECT_EQ(run_command(pinstream_binary().string() + " emulate --sink files --out /tmp --count -3",
                        &out),
            2)
      << out;
}

}  // namespace
}  // namespace pinstream::testing
