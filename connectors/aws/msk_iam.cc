#include "connectors/aws/msk_iam.h"

#include <utility>
#include <vector>

#include "connectors/aws/sigv4.h"

namespace pinstream::connectors::aws {
namespace {

constexpr const char* kService = "kafka-cluster";
constexpr const char* kAlgorithm = "AWS4-HMAC-SHA256";

std::string param(const std::string& k, const std::string& v) {
  return uri_encode(k, false) + "=" + uri_encode(v, false);
}

}  // namespace

std::string msk_iam_signed_url(const Credentials& c, const std::string& region,
                               std::chrono::system_clock::time_point now,
                               const std::string& user_agent) {
  const std::string host = "kafka." + region + ".amazonaws.com";
  const std::string date = amz_date(now);
  const std::string day = amz_day(now);
  const std::string scope = day + "/" + region + "/" + kService + "/aws4_request";
  // botocore's order: operation parameters, then the auth parameters as it inserts them.
  std::vector<std::pair<std::string, std::string>> params = {
      {"Action", "kafka-cluster:Connect"},
      {"X-Amz-Algorithm", kAlgorithm},
      {"X-Amz-Credential", c.access_key_id + "/" + scope},
      {"X-Amz-Date", date},
      {"X-Amz-Expires", std::to_string(kMskTokenExpirySeconds)},
      {"X-Amz-SignedHeaders", "host"},
  };
  if (!c.session_token.empty()) params.emplace_back("X-Amz-Security-Token", c.session_token);
  const std::string canonical =
      "GET\n/\n" + canonical_query(params) + "\nhost:" + host + "\n\nhost\n" + sha256_hex("");
  const std::string to_sign =
      std::string(kAlgorithm) + "\n" + date + "\n" + scope + "\n" + sha256_hex(canonical);
  const std::string signature =
      hex(hmac_sha256(signing_key(c.secret_access_key, day, region, kService), to_sign));
  std::string query;
  for (const auto& [k, v] : params) query += (query.empty() ? "" : "&") + param(k, v);
  query += "&" + param("X-Amz-Signature", signature);
  query += "&" + param("User-Agent", user_agent);
  return "https://" + host + "/?" + query;
}

MskToken msk_iam_token(const Credentials& c, const std::string& region,
                       std::chrono::system_clock::time_point now, const std::string& user_agent) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  MskToken t;
  t.token = base64url_nopad(msk_iam_signed_url(c, region, secs, user_agent));
  t.expiry_ms = (secs.time_since_epoch().count() + kMskTokenExpirySeconds) * int64_t{1000};
  return t;
}

}  // namespace pinstream::connectors::aws
