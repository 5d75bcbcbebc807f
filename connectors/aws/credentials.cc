#include "connectors/aws/credentials.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <vector>

#include "connectors/aws/credential_sources.h"

namespace pinstream::connectors::aws {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string home_file(const char* env_name, const char* rel) {
  std::string p = env(env_name);
  if (!p.empty()) return p;
  std::string home = env("HOME");
  return home.empty() ? "" : home + "/.aws/" + rel;
}

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string profile_name() {
  std::string p = env("AWS_PROFILE");
  return p.empty() ? "default" : p;
}

class StaticProvider : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : c_(std::move(c)) {}
  core::Result<Credentials> get() override { return c_; }

 private:
  Credentials c_;
};

using Source = MaybeCredentials (*)();

class ChainProvider : public CredentialsProvider {
 public:
  explicit ChainProvider(Clock now) : now_(std::move(now)) {}

  core::Result<Credentials> get() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ && fresh(*cached_)) return *cached_;
    if (chosen_) {  // renewal from the source that answered before
      auto r = chosen_();
      if (r.has_value() && r->has_value()) return remember(std::move(**r));
      if (cached_ && !expired(*cached_)) {
        spdlog::warn(
            "could not renew AWS credentials; using the current ones until they expire. "
            "source={} reason={}",
            cached_->source, r.has_value() ? "gone" : r.error().message());
        return *cached_;
      }
      if (!r.has_value()) return r.error();
    }
    static constexpr Source kSources[] = {credentials_from_environment, credentials_from_profile,
                                          credentials_from_web_identity, credentials_from_container,
                                          credentials_from_imds};
    for (Source s : kSources) {
      auto r = s();
      if (!r.has_value()) return r.error();
      if (r->has_value()) {
        chosen_ = s;
        return remember(std::move(**r));
      }
    }
    return core::Status::invalid(
        "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
        "AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, or run where the ECS or EC2 instance "
        "role endpoint answers");
  }

 private:
  bool fresh(const Credentials& c) const {
    return !c.expiration || now_() + kRefreshMargin < *c.expiration;
  }
  bool expired(const Credentials& c) const { return c.expiration && now_() >= *c.expiration; }
  Credentials remember(Credentials c) {
    if (!cached_ || cached_->source != c.source) {
      spdlog::info("AWS credentials found. source={} access_key_id={}", c.source, c.access_key_id);
    }
    cached_ = std::move(c);
    return *cached_;
  }

  Clock now_;
  std::mutex mu_;
  Source chosen_ = nullptr;
  std::optional<Credentials> cached_;
};

}  // namespace

std::string ini_value(const std::string& path, const std::string& section, const std::string& key) {
  std::ifstream in(path);
  std::string line, current;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      current = trim(line.substr(1, line.size() - 2));
      continue;
    }
    auto eq = line.find('=');
    if (current == section && eq != std::string::npos && trim(line.substr(0, eq)) == key) {
      return trim(line.substr(eq + 1));
    }
  }
  return "";
}

MaybeCredentials credentials_from_environment() {
  Credentials c;
  c.access_key_id = env("AWS_ACCESS_KEY_ID");
  c.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
  c.session_token = env("AWS_SESSION_TOKEN");
  c.source = "environment";
  if (c.access_key_id.empty() && c.secret_access_key.empty()) return std::optional<Credentials>();
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return core::Status::invalid(
        "AWS credentials in the environment are incomplete: set both AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY");
  }
  return std::optional<Credentials>(std::move(c));
}

MaybeCredentials credentials_from_profile() {
  const std::string name = profile_name();
  const std::string creds_file = home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  const std::string config_file = home_file("AWS_CONFIG_FILE", "config");
  const std::string config_section = name == "default" ? "default" : "profile " + name;
  Credentials c;
  c.source = "profile " + name;
  for (const auto& [file, section] : {std::pair{creds_file, name}, {config_file, config_section}}) {
    if (file.empty()) continue;
    c.access_key_id = ini_value(file, section, "aws_access_key_id");
    if (c.access_key_id.empty()) continue;
    c.secret_access_key = ini_value(file, section, "aws_secret_access_key");
    c.session_token = ini_value(file, section, "aws_session_token");
    if (c.secret_access_key.empty()) {
      return core::Status::invalid("AWS profile " + name + " in " + file +
                                   " has aws_access_key_id but no aws_secret_access_key");
    }
    return std::optional<Credentials>(std::move(c));
  }
  if (!env("AWS_PROFILE").empty()) {
    return core::Status::invalid("AWS_PROFILE=" + name + " has no aws_access_key_id in " +
                                 creds_file + " or " + config_file +
                                 " (role_arn, sso and credential_process profiles are not "
                                 "supported): fix the profile or unset AWS_PROFILE");
  }
  return std::optional<Credentials>();
}

std::shared_ptr<CredentialsProvider> default_credentials_chain(Clock now) {
  return std::make_shared<ChainProvider>(std::move(now));
}

std::shared_ptr<CredentialsProvider> static_credentials(Credentials credentials) {
  return std::make_shared<StaticProvider>(std::move(credentials));
}

std::string region_from_environment() {
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string v = env(name);
    if (!v.empty()) return v;
  }
  const std::string name = profile_name();
  std::string config_file = home_file("AWS_CONFIG_FILE", "config");
  if (!config_file.empty()) {
    std::string r =
        ini_value(config_file, name == "default" ? "default" : "profile " + name, "region");
    if (!r.empty()) return r;
  }
  return "us-east-1";
}

}  // namespace pinstream::connectors::aws
