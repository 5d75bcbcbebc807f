// Loopback networking for the tests' own servers and proxies (fake AWS endpoints, fault
// proxies) and for starting emulators as child processes: listen, connect, send, read a
// header, and spawn a program detached from the test's terminal that dies with the test.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace pinstream::testing {

sockaddr_in loopback_addr(int port);
// A listening TCP socket on 127.0.0.1 at a free port (stored in *port); -1 on failure.
int listen_loopback(int* port);
// A TCP connection to 127.0.0.1:port; -1 on failure.
int connect_loopback(int port);
// Whether something accepts TCP connections on 127.0.0.1:port.
bool port_open(int port);
// Sends all of `data` (stops quietly at a closed peer).
void send_all(int fd, const std::string& data);
void send_all(int fd, const char* data, size_t size);
// Sends the HTTP request `req` to 127.0.0.1:port with `Connection: close` added and returns
// the whole response ("" when the connection fails): a proxy's forwarding step.
std::string http_forward(int port, std::string req);
// The value of header `name` (case-insensitive) in an HTTP head; empty when absent.
std::string http_header(const std::string& head, std::string name);

// Starts `args[0]` (looked up on PATH) with `args`, in its own process group, stdio on
// /dev/null, in `dir` when not empty, with `env` when not empty (else this environment);
// it gets SIGTERM if the test dies. Returns the pid, or -1 when fork fails.
pid_t spawn_detached(std::vector<std::string> args, const std::string& dir = "",
                     std::vector<std::string> env = {});
// Stops what spawn_detached started: SIGTERM to its process group, SIGKILL after 5 s.
void stop_detached(pid_t pid);

}  // namespace pinstream::testing
