// Kinesis emulators for tests: starts kinesalite or kinesis-local (kinesis-mock) from
// .tools/node on a free loopback port, waits until it answers, and stops it on destruction.
// Also sets fake AWS credentials, since every call is SigV4-signed.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/loopback.h"  // port_open

namespace pinstream::testing {

enum class KinesisEmulatorKind { kKinesalite, kKinesisLocal };

class KinesisEmulator {
 public:
  // Returns nullptr (with the reason in *error) when the emulator did not come up.
  static std::unique_ptr<KinesisEmulator> start(KinesisEmulatorKind kind, std::string* error);
  ~KinesisEmulator();
  KinesisEmulator(const KinesisEmulator&) = delete;
  KinesisEmulator& operator=(const KinesisEmulator&) = delete;
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  KinesisEmulator(pid_t pid, int port) : pid_(pid), port_(port) {}
  pid_t pid_;
  int port_;
};

// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION for the emulators (no token).
void set_fake_aws_credentials();

}  // namespace pinstream::testing
