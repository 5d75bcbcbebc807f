// The small pieces of AWS Signature Version 4 we compute ourselves: hashes, HMAC, hex and
// base64 encodings, AWS URI encoding and timestamps. libcurl signs our HTTP requests
// (CURLOPT_AWS_SIGV4); these serve the one thing it cannot do, a query-string presign
// (the MSK IAM token), and the x-amz-content-sha256 / Content-MD5 headers libcurl 7.88
// leaves to the caller. Pure functions over OpenSSL; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pinstream::connectors::aws {

std::string sha256_hex(std::string_view data);
// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hex(std::string_view bytes);
std::string md5_base64(std::string_view data);
std::string base64(std::string_view bytes);
// RFC 4648 section 5 alphabet, without '=' padding.
std::string base64url_nopad(std::string_view bytes);

// AWS URI encoding: unreserved characters (A-Z a-z 0-9 - _ . ~) stay, every other byte is
// %XX in upper case; '/' stays when keep_slash (object key paths).
std::string uri_encode(std::string_view s, bool keep_slash);

// "20261129T213800Z" and "20261129" for a UTC time.
std::string amz_date(std::chrono::system_clock::time_point t);
std::string amz_day(std::chrono::system_clock::time_point t);
// ISO 8601 UTC as AWS returns expirations ("2026-11-29T21:38:00Z", fractions allowed).
// Returns false when `s` is not such a time.
bool parse_iso8601(std::string_view s, std::chrono::system_clock::time_point* out);

// The derived SigV4 signing key for (secret, day, region, service).
std::string signing_key(std::string_view secret, std::string_view day, std::string_view region,
                        std::string_view service);

// Sorted "k=v&k=v" with keys and values uri_encode'd (keep_slash false): the canonical
// query string of SigV4, and the form libcurl 7.88 needs (it signs the query as given).
std::string canonical_query(std::vector<std::pair<std::string, std::string>> params);

}  // namespace pinstream::connectors::aws
