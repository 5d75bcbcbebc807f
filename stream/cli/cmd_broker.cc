// `pinstream broker [--port P] [--partitions N]`: librdkafka's mock cluster on loopback with
// the pipeline's topics pre-created. Prints the bootstrap address as its first line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "connectors/kafka/mock_cluster.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"

namespace pinstream::cli {
namespace {

std::atomic<bool> g_broker_stop{false};
void on_broker_signal(int) { g_broker_stop.store(true); }

// librdkafka 2.0's mock cluster picks its own ports; --port P forwards 127.0.0.1:P to the
// mock broker so that a fixed bootstrap address works (metadata then names the real port).
void relay(int a, int b) {
  char buf[65536];
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  while (!g_broker_stop.load()) {
    if (::poll(fds, 2, 200) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
      if (n <= 0 || ::send(fds[1 - i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
        ::close(a);
        ::close(b);
        return;
      }
    }
  }
  ::close(a);
  ::close(b);
}

int forward_port(int port, const std::string& target) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 64) != 0) {
    ::close(lfd);
    return -1;
  }
  size_t colon = target.find(':');
  std::string host = target.substr(0, colon);
  int tport = std::atoi(target.c_str() + colon + 1);
  std::thread([lfd, host, tport] {
    while (!g_broker_stop.load()) {
      pollfd p{lfd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      int c = ::accept(lfd, nullptr, nullptr);
      if (c < 0) continue;
      int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in t{};
      t.sin_family = AF_INET;
      t.sin_port = htons(static_cast<uint16_t>(tport));
      ::inet_pton(AF_INET, host.c_str(), &t.sin_addr);
      if (::connect(s, reinterpret_cast<sockaddr*>(&t), sizeof t) != 0) {
        ::close(c);
        ::close(s);
        continue;
      }
      std::thread(relay, c, s).detach();
    }
    ::close(lfd);
  }).detach();
  return 0;
}

struct BrokerArgs {
  std::string config;
  int port = 0;
  int partitions = 3;
  int brokers = 1;
};

int run_broker(const BrokerArgs& a) {
  std::string id = "pinterest";
  if (const char* env = std::getenv("PINSTREAM_ID"); env && *env) id = env;
  if (!a.config.empty()) {
    auto cfg = load_config_or_report(a.config);
    if (!cfg) return 2;
    id = cfg->id;
  }
  if (a.partitions < 1) {
    std::fprintf(stderr, "pinstream broker: --partitions must be positive\n");
    return 2;
  }
  if (a.brokers < 1 || a.brokers > 16) {
    std::fprintf(stderr, "pinstream broker: --brokers must be between 1 and 16\n");
    return 2;
  }
  auto cluster = connectors::kafka::MockCluster::start(a.brokers);
  if (!cluster) return report_error(cluster.error());
  for (const char* s : {"pin", "geo", "user"}) {
    core::Status st = (*cluster)->create_topic(id + "." + s, a.partitions);
    if (!st.is_ok()) return report_error(st);
  }
  std::string bootstrap = (*cluster)->bootstrap_servers();
  std::string shown = bootstrap;
  if (a.port > 0) {
    std::string first = bootstrap.substr(0, bootstrap.find(','));
    if (forward_port(a.port, first) != 0) {
      std::fprintf(stderr, "pinstream broker: cannot listen on 127.0.0.1:%d\n", a.port);
      return 2;
    }
    shown = "127.0.0.1:" + std::to_string(a.port);
  }
  std::printf("%s\n", shown.c_str());
  std::fprintf(
      stderr,
      "pinstream broker: librdkafka mock cluster at %s (topics %s.pin/.geo/.user, %d partitions); "
      "data in memory, ~5 MiB per partition; Ctrl-C stops it\n",
      bootstrap.c_str(), id.c_str(), a.partitions);
  std::fflush(stdout);
  std::signal(SIGINT, on_broker_signal);
  std::signal(SIGTERM, on_broker_signal);
  while (!g_broker_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}

}  // namespace

void add_broker(CLI::App& app, Exit& exit) {
  auto* cmd = app.add_subcommand(
      "broker", "A development Kafka broker (librdkafka mock cluster) on loopback");
  static BrokerArgs a;
  cmd->add_option("--config", a.config, "Pipeline configuration (for its id)");
  cmd->add_option("--port", a.port, "Also accept bootstrap connections on 127.0.0.1:PORT");
  cmd->add_option("--partitions", a.partitions, "Partitions per topic (default 3)");
  cmd->add_option("--brokers", a.brokers,
                  "Brokers in the cluster, partition leaders spread over them (default 1)");
  cmd->callback([&exit] { exit.code = run_broker(a); });
}

}  // namespace pinstream::cli
