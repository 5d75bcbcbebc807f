// libFuzzer target for the HTTP request parser (stream/query/http.h): any bytes give a
// complete request, a wish for more (only while within the bounds) or an error status the
// server can send; a complete request never claims more bytes than it was given, and
// parsing what follows it (pipelining) obeys the same rules.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "stream/query/http.h"

namespace http = pinstream::runtime::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view buf(reinterpret_cast<const char*>(data), size);
  http::Limits limits;
  limits.max_head_bytes = 512;
  limits.max_body_bytes = 256;
  for (int round = 0; round < 8 && !buf.empty(); ++round) {
    http::Request req;
    size_t used = 0;
    int status = 0;
    http::Parse p = http::parse_request(buf, limits, req, used, status);
    if (p == http::Parse::kError) {
      if (status != 400 && status != 413 && status != 431 && status != 501 && status != 505)
        std::abort();
      return 0;
    }
    if (p == http::Parse::kNeedMore) {
      if (buf.size() > limits.max_head_bytes + limits.max_body_bytes + 8) std::abort();
      return 0;
    }
    if (used == 0 || used > buf.size() || req.path.empty() || req.path[0] != '/') std::abort();
    if (req.body.size() > limits.max_body_bytes) std::abort();
    buf.remove_prefix(used);
  }
  return 0;
}
