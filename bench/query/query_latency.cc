// Query latency under concurrency: C clients, each on its own connection to the daemon's
// socket, send R requests one after another (one JSON line, wait for the answer line) and
// time each round trip. Prints p50/p90/p99/max over all requests and the total rate.
// INTERVAL_MS > 0 paces each client to one request per interval (an open load of
// CLIENTS/INTERVAL requests/s); 0 sends back to back (saturation: latency is then mostly
// queueing behind the other 63 clients, on the same 2 cores as the daemon).
//   query_latency SOCKET [CLIENTS=64] [REQUESTS=200] [INTERVAL_MS=0] [VIEW...]
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {
using Clock = std::chrono::steady_clock;

int connect_to(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `line` and reads up to the answer's newline; false on a broken exchange or an error answer.
bool round_trip(int fd, const std::string& line, std::string& buf) {
  for (size_t off = 0; off < line.size();) {
    ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  buf.clear();
  char chunk[65536];
  while (buf.empty() || buf.back() != '\n') {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
  }
  return buf.find("\"ok\":true") != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: query_latency SOCKET [CLIENTS] [REQUESTS] [INTERVAL_MS] [VIEW...]\n");
    return 2;
  }
  const std::string socket_path = argv[1];
  const int clients = argc > 2 ? std::atoi(argv[2]) : 64;
  const int requests = argc > 3 ? std::atoi(argv[3]) : 200;
  const int interval_ms = argc > 4 ? std::atoi(argv[4]) : 0;
  std::vector<std::string> views;
  for (int i = 5; i < argc; ++i) views.emplace_back(argv[i]);
  if (views.empty())
    views = {"most_popular_category_by_country",
             "category_count_by_year",
             "most_followed_user_by_country",
             "median_follower_count_by_age_group",
             "users_joined_by_year",
             "median_follower_count_by_age_group_and_join_year"};
  std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      int fd = connect_to(socket_path);
      if (fd < 0) {
        errors += requests;
        return;
      }
      std::string buf;
      auto& mine = lat[static_cast<size_t>(c)];
      mine.reserve(static_cast<size_t>(requests));
      auto due =
          Clock::now() + std::chrono::microseconds(c * 997 % std::max(1, interval_ms * 1000));
      for (int r = 0; r < requests; ++r) {
        if (interval_ms > 0) {
          std::this_thread::sleep_until(due);
          due += std::chrono::milliseconds(interval_ms);
        }
        std::string line =
            "{\"view\":\"" + views[static_cast<size_t>(c + r) % views.size()] + "\"}\n";
        auto t0 = Clock::now();
        if (!round_trip(fd, line, buf)) {
          ++errors;
          continue;
        }
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  if (all.empty()) {
    std::fprintf(stderr, "no successful request (%d errors)\n", errors.load());
    return 1;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all[std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())))];
  };
  std::printf(
      "%d clients x %d requests (%s) over %zu views: %zu answers, %d errors, %.0f requests/s\n",
      clients, requests,
      interval_ms > 0 ? ("one per " + std::to_string(interval_ms) + " ms each").c_str()
                      : "back to back",
      views.size(), all.size(), errors.load(), static_cast<double>(all.size()) / secs);
  std::printf("latency us: p50 %.0f  p90 %.0f  p99 %.0f  max %.0f\n", pct(0.50), pct(0.90),
              pct(0.99), all.back());
  return errors.load() == 0 ? 0 : 1;
}
