// One s3rver (with a fault proxy in front) per test binary, started on first use, and
// helpers to open stores on it. s3rver itself lacks conditional PUT, so every store that
// needs put_if_absent goes through the proxy.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "connectors/objstore/s3_store.h"
#include "tests/support/s3_emulator.h"
#include "tests/support/s3_fault_proxy.h"

namespace pinstream::connectors::objstore {

inline constexpr const char* kBucket = "pinstream-test";

struct S3Env {
  std::unique_ptr<testing::S3Emulator> s3;
  std::unique_ptr<testing::S3FaultProxy> proxy;
};

// Skips the test when s3rver cannot start (run scripts/setup).
inline S3Env& s3_env() {
  static S3Env env = [] {
    S3Env e;
    std::string error;
    e.s3 = testing::S3Emulator::start({kBucket}, &error);
    if (e.s3) {
      e.proxy = std::make_unique<testing::S3FaultProxy>(e.s3->port());
      testing::set_s3rver_environment(e.s3->endpoint());
    } else {
      ADD_FAILURE() << error;
    }
    return e;
  }();
  return env;
}

inline S3ClientConfig s3rver_config(const std::string& endpoint) {
  S3ClientConfig c;
  c.bucket = kBucket;
  c.region = "us-east-1";
  c.endpoint = endpoint;
  c.credentials = aws::static_credentials({"S3RVER", "S3RVER", "", {}, "test"});
  c.base_backoff = std::chrono::milliseconds(5);  // keep retried tests fast
  return c;
}

// A store on the proxy (all features) with `prefix`.
inline std::unique_ptr<ObjectStore> proxied_store(const std::string& prefix,
                                                  StoreOptions options = {}) {
  return make_s3_store(s3rver_config(s3_env().proxy->endpoint()), prefix, options);
}

}  // namespace pinstream::connectors::objstore
