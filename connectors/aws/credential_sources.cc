// The chain's sources that ask an endpoint: STS for web identity, the ECS container
// endpoint and EC2 IMDSv2. Each call uses its own short-lived HTTP client: credentials are
// fetched rarely (at start and before expiry).
#include "connectors/aws/credential_sources.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "connectors/aws/sigv4.h"
#include "connectors/aws/xml.h"
#include "connectors/http/http_client.h"

namespace pinstream::connectors::aws {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool read_whole(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  while (!out->empty() && (out->back() == '\n' || out->back() == '\r')) out->pop_back();
  return true;
}

std::string form_encode(const std::string& s) { return uri_encode(s, false); }

// {AccessKeyId, SecretAccessKey, Token, Expiration} as ECS and IMDS return them.
MaybeCredentials from_json(const std::string& body, const std::string& source) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("AccessKeyId") ||
      !j.contains("SecretAccessKey")) {
    return core::Status::invalid("the " + source +
                                 " credential endpoint answered without "
                                 "AccessKeyId/SecretAccessKey");
  }
  Credentials c;
  c.source = source;
  c.access_key_id = j.value("AccessKeyId", "");
  c.secret_access_key = j.value("SecretAccessKey", "");
  c.session_token = j.value("Token", "");
  std::chrono::system_clock::time_point exp;
  if (j.contains("Expiration") && parse_iso8601(j.value("Expiration", ""), &exp)) {
    c.expiration = exp;
  }
  return std::optional<Credentials>(std::move(c));
}

core::Status http_failure(const std::string& what, const http::Response& r) {
  std::string code = xml_text(r.body, "Code");
  std::string message = xml_text(r.body, "Message");
  std::string detail = code.empty() ? "" : ": " + code + (message.empty() ? "" : " " + message);
  if (r.status >= 500) {
    return core::Status::unavailable(what + " answered HTTP " + std::to_string(r.status) + detail);
  }
  return core::Status::invalid(what + " refused with HTTP " + std::to_string(r.status) + detail);
}

}  // namespace

MaybeCredentials credentials_from_web_identity() {
  const std::string token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  const std::string role = env("AWS_ROLE_ARN");
  if (token_file.empty() || role.empty()) return std::optional<Credentials>();
  std::string token;  // re-read at each renewal: the orchestrator rotates it
  if (!read_whole(token_file, &token) || token.empty()) {
    return core::Status::invalid("cannot read the web identity token file " + token_file +
                                 " (AWS_WEB_IDENTITY_TOKEN_FILE)");
  }
  std::string session = env("AWS_ROLE_SESSION_NAME");
  if (session.empty()) session = "pinstream-" + std::to_string(::getpid());
  std::string endpoint = env("AWS_ENDPOINT_URL_STS");
  if (endpoint.empty()) endpoint = "https://sts." + region_from_environment() + ".amazonaws.com";
  std::string body =
      "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + form_encode(role) +
      "&RoleSessionName=" + form_encode(session) + "&WebIdentityToken=" + form_encode(token);
  http::Client client;
  http::Request req;
  req.method = "POST";
  req.url = endpoint + "/";
  req.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/xml"};
  req.body = body;
  req.timeout_ms = 10000;
  http::Response r;
  PS_RETURN_IF_ERROR(client.send(req, r));
  if (r.status != 200) return http_failure("STS AssumeRoleWithWebIdentity for " + role, r);
  std::string creds = xml_text(r.body, "Credentials");
  Credentials c;
  c.source = "web identity";
  c.access_key_id = xml_text(creds, "AccessKeyId");
  c.secret_access_key = xml_text(creds, "SecretAccessKey");
  c.session_token = xml_text(creds, "SessionToken");
  std::chrono::system_clock::time_point exp;
  if (parse_iso8601(xml_text(creds, "Expiration"), &exp)) c.expiration = exp;
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return core::Status::invalid("STS AssumeRoleWithWebIdentity answered without credentials");
  }
  return std::optional<Credentials>(std::move(c));
}

MaybeCredentials credentials_from_container() {
  std::string url = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (url.empty()) {
    std::string rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (rel.empty()) return std::optional<Credentials>();
    url = "http://169.254.170.2" + rel;
  }
  std::string token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  std::string token_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  if (!token_file.empty() && !read_whole(token_file, &token)) {
    return core::Status::invalid("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " +
                                 token_file);
  }
  http::Client client;
  http::Request req;
  req.url = url;
  if (!token.empty()) req.headers.push_back("Authorization: " + token);
  req.timeout_ms = 5000;
  http::Response r;
  PS_RETURN_IF_ERROR(client.send(req, r));
  if (r.status != 200) return http_failure("the ECS container credential endpoint", r);
  return from_json(r.body, "ecs");
}

MaybeCredentials credentials_from_imds() {
  if (env("AWS_EC2_METADATA_DISABLED") == "true") return std::optional<Credentials>();
  std::string base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (base.empty()) base = "http://169.254.169.254";
  while (!base.empty() && base.back() == '/') base.pop_back();
  http::Client client;
  http::Request req;
  req.method = "PUT";
  req.url = base + "/latest/api/token";
  req.headers = {"X-aws-ec2-metadata-token-ttl-seconds: 21600"};
  req.timeout_ms = 2000;
  req.connect_timeout_ms = 1000;
  http::Response r;
  if (!client.send(req, r).is_ok()) return std::optional<Credentials>();  // not on EC2
  if (r.status != 200) return http_failure("the EC2 metadata service (IMDSv2 token)", r);
  const std::string token_header = "X-aws-ec2-metadata-token: " + r.body;
  req.method = "GET";
  req.headers = {token_header};
  req.url = base + "/latest/meta-data/iam/security-credentials/";
  PS_RETURN_IF_ERROR(client.send(req, r));
  if (r.status == 404) {
    return core::Status::invalid("this EC2 instance has no instance profile (IAM role)");
  }
  if (r.status != 200) return http_failure("the EC2 metadata service", r);
  std::string role = r.body.substr(0, r.body.find('\n'));
  req.url = base + "/latest/meta-data/iam/security-credentials/" + role;
  PS_RETURN_IF_ERROR(client.send(req, r));
  if (r.status != 200) return http_failure("the EC2 metadata service (role " + role + ")", r);
  return from_json(r.body, "imds");
}

}  // namespace pinstream::connectors::aws
