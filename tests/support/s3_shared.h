// One s3rver with the fault proxy in front of it (which adds the conditional PUT s3rver
// lacks), started on first use and shared by every test of a binary, for tests that run
// pinstream against S3. Header-only, beside s3_emulator.h and s3_fault_proxy.h.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <string>

#include "tests/support/s3_emulator.h"
#include "tests/support/s3_fault_proxy.h"

namespace pinstream::testing {

struct SharedS3 {
  std::unique_ptr<S3Emulator> emulator;
  std::unique_ptr<S3FaultProxy> proxy;
};

// The binary's s3rver holding `bucket` (the first call's bucket wins). When
// `environment_to_proxy`, the AWS variables of this process (and so of the pinstream
// processes it starts) point at the proxy. A failure to start is a test failure.
inline SharedS3& shared_s3(const char* bucket, bool environment_to_proxy = true) {
  static SharedS3 env = [&] {
    SharedS3 e;
    std::string error;
    e.emulator = S3Emulator::start({bucket}, &error);
    if (!e.emulator) {
      ADD_FAILURE() << error;
      return e;
    }
    e.proxy = std::make_unique<S3FaultProxy>(e.emulator->port());
    if (environment_to_proxy) set_s3rver_environment(e.proxy->endpoint());
    return e;
  }();
  return env;
}

// Sets an environment variable (e.g. PINSTREAM_TABLES) for the commands run while it lives.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

}  // namespace pinstream::testing
