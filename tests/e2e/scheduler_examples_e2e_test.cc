// The examples for schedulers and service managers, checked against the real binary: the
// Airflow DAG (examples/airflow) is valid Python, imports with a stub of Airflow, and the
// command it builds runs pinstream to a summary on XCom with the retry policy it promises;
// the systemd unit (examples/systemd) verifies, and the daemon speaks its Type=notify
// protocol (READY, WATCHDOG, STOPPING) and restarts in place on SIGHUP.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e/expected_pipeline.h"
#include "tests/e2e/pipeline_run.h"
#include "tests/support/test_support.h"

namespace pinstream::testing {
namespace {
namespace fs = std::filesystem;

TEST(AirflowExample, DagIsValidPythonAndItsCommandRunsPinstream) {
  const fs::path dag = source_dir() / "examples/airflow/pinterest_daily.py";
  std::string out;
  TempDir pyc("ps-airflow-pyc");
  ASSERT_EQ(run_command("PYTHONPYCACHEPREFIX='" + pyc.path().string() +
                            "' /usr/bin/python3 -m py_compile '" + dag.string() + "'",
                        &out),
            0)
      << out;
  PipelineRun run("ps-airflow");
  ExpectedPipeline model;
  model.write_input(run.raw(), 30);
  const fs::path here = source_dir() / "tests/e2e/airflow";
  const std::string env =
      run.env() + "PYTHONDONTWRITEBYTECODE=1 PYTHONPATH='" + (here / "stub").string() +
      "' PINSTREAM_BIN='" + pinstream_binary().string() + "' PINSTREAM_CONFIG='" +
      run.config().string() + "' PINSTREAM_SUMMARY_DIR='" + run.dir().path().string() + "' ";
  EXPECT_EQ(run_command(env + "/usr/bin/python3 '" + (here / "check_dag.py").string() + "' '" +
                            dag.string() + "' '" +
                            nlohmann::json{{"pin", model.counters["pin"].read},
                                           {"geo", model.counters["geo"].read},
                                           {"user", model.counters["user"].read}}
                                .dump() +
                            "'",
                        &out),
            0)
      << out;
  EXPECT_NE(out.find("\nOK"), std::string::npos) << out;
  // The task really ran: the data directory holds what the summary said.
  EXPECT_EQ(run.stats()["streams"]["pin"]["read"], model.counters["pin"].read);
}

TEST(SystemdExample, UnitVerifiesAndSaysWhatTheReadmePromises) {
  const std::string unit = read_file(source_dir() / "examples/systemd/pinstream.service");
  for (const char* line :
       {"Type=notify", "Restart=on-failure", "RestartPreventExitStatus=2 3", "User=pinstream",
        "StateDirectory=pinstream", "EnvironmentFile=/etc/pinstream/pinstream.env",
        "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID", "KillSignal=SIGTERM"})
    EXPECT_NE(unit.find(std::string("\n") + line), std::string::npos) << line;
  std::string out;
  if (run_command("command -v systemd-analyze", &out) != 0)
    GTEST_SKIP() << "systemd-analyze is not installed";
  TempDir dir("ps-unit");
  std::string copy = unit;
  const std::string bin = "/usr/local/bin/pinstream";
  for (size_t at; (at = copy.find(bin)) != std::string::npos;)
    copy.replace(at, bin.size(), pinstream_binary().string());
  write_file(dir.path() / "pinstream.service", copy);
  std::string verify;
  EXPECT_EQ(
      run_command("systemd-analyze verify '" + (dir.path() / "pinstream.service").string() + "'",
                  &verify),
      0)
      << verify;
  EXPECT_EQ(verify, "");  // warnings (an unknown key, a bad value) exit 0 too
}

// A datagram socket standing in for systemd's NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd_); }
  // Receives messages until one contains `what` (appending all to log_), or the deadline.
  bool wait_for(const std::string& what, std::chrono::seconds timeout) {
    return wait_until(
        [&] {
          char buf[512];
          ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
          if (n > 0) {
            std::string msg(buf, static_cast<size_t>(n));
            log_ += msg + "|";
            if (msg.find(what) != std::string::npos) return true;
          }
          return false;
        },
        timeout, std::chrono::milliseconds(1));
  }
  const std::string& log() const { return log_; }

 private:
  fs::path path_;
  int fd_ = -1;
  std::string log_;
};

TEST(SystemdExample, DaemonNotifiesReadyPingsTheWatchdogAndRestartsInPlaceOnSighup) {
  PipelineRun run("ps-notify");
  ExpectedPipeline model;
  model.write_input(run.raw(), 20);
  NotifySocket sock(run.dir().path() / "notify.sock");
  const fs::path log = run.dir().path() / "daemon.log";
  // WATCHDOG_USEC 400 ms: a ping every 200 ms.
  pid_t pid = ::fork();
  if (pid == 0) {
    const std::string cmd =
        "exec env NOTIFY_SOCKET='" + (run.dir().path() / "notify.sock").string() +
        "' WATCHDOG_USEC=400000 " + run.env() + pinstream_binary().string() + " run --config '" +
        run.config().string() + "' >>'" + log.string() + "' 2>&1";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_TRUE(sock.wait_for("READY=1", std::chrono::seconds(20))) << sock.log() << read_file(log);
  ASSERT_TRUE(sock.wait_for("WATCHDOG=1", std::chrono::seconds(5))) << sock.log();
  ::kill(pid, SIGHUP);
  ASSERT_TRUE(sock.wait_for("STOPPING=1", std::chrono::seconds(20)))
      << sock.log() << read_file(log);
  // The same process is ready again, having resumed from its checkpoint.
  ASSERT_TRUE(sock.wait_for("READY=1", std::chrono::seconds(20))) << sock.log() << read_file(log);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "the daemon exited instead of restarting";
  EXPECT_NE(read_file(log).find("Restarting on SIGHUP"), std::string::npos) << read_file(log);
  EXPECT_NE(read_file(log).find("Resuming after committed epoch"), std::string::npos)
      << read_file(log);
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log);
  EXPECT_EQ(run.stats()["streams"]["pin"]["read"], model.counters["pin"].read);
}

}  // namespace
}  // namespace pinstream::testing
