// Query answers (SPEC section 7) as values, and their renderings at the edges: the socket's
// and the HTTP API's JSON line
// `{"ok":true,"epoch":N,"columns":[...],"rows":[[...]],"tasks":{"covered":N,"total":M}}` or
// `{"ok":false,"error":{"code":...,"message":...}}`, CSV (HTTP `?format=csv`, the CLI) and
// the CLI's aligned table. Clients read a line back with parse_answer / answer_status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stream/core/schema.h"
#include "stream/core/status.h"

namespace pinstream::runtime {

// The protocol's error codes, as the "code" of an error answer.
enum class ErrorCode {
  kBadRequest,  // the request is malformed
  kBadParams,   // a view's params are wrong
  kUnknownView,
  kUnavailable,  // no committed state yet, or the daemon cannot do it now
  kInternal,
  kRequestTooLarge,   // a socket request line past max_request_bytes
  kBusy,              // too many event streams
  kNotFound,          // HTTP: no such path
  kUnauthorized,      // HTTP: no or a wrong bearer token
  kMethodNotAllowed,  // HTTP: not GET or HEAD
};

// "bad_request", "unknown_view", ...
const char* error_code_name(ErrorCode code);
// The code of a failed view query: NotFound -> unknown_view, InvalidArgument -> bad_params,
// Unavailable -> unavailable, anything else -> internal.
ErrorCode view_error_code(const core::Status& status);
// The HTTP status an error answer is served with (404, 400, 503, 401, 405, 429, 500...).
int http_status(ErrorCode code);

// Which tasks (SPEC section 9) an answer covers: JSON `"tasks":{"covered":N,"total":M}`. One
// process covers every task it knows (covered = total; single mode: 1 and 1).
// In a shared pipeline (query/peers.h) an answer over fewer tasks than the topics have names
// each missing task and why: `"missing":[{"task":2,"reason":"..."}]`.
struct TasksCovered {
  int64_t covered = 1;
  int64_t total = 1;
  std::vector<std::pair<int32_t, std::string>> missing;  // task, reason
};

// A view's answer over one committed epoch: rows in the view's order, cells of the column
// types (timestamps print as ISO-8601).
struct Answer {
  int64_t epoch = 0;
  std::vector<std::string> columns;
  std::vector<core::Row> rows;
  TasksCovered tasks;  // JSON only: CSV and the table are unchanged
};

// One JSON line each (no trailing newline); invalid UTF-8 in strings becomes U+FFFD.
std::string answer_json(const Answer& answer);
std::string error_json(ErrorCode code, std::string_view message);
// CSV (RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled), a
// header line then one line per row, each ending in "\n".
std::string answer_csv(const Answer& answer);
// Columns aligned on display width (code points), a rule of dashes, the rows, then
// "(N rows, epoch E)".
std::string answer_table(const Answer& answer);

// The client's side. The status an answer line carries: OK for {"ok":true,...}; for an
// error answer a Status of the matching kind (bad_request, bad_params -> InvalidArgument,
// unknown_view -> NotFound, unavailable, busy -> Unavailable, others Internal) whose message
// is "<code>: <message>"; Corruption ("malformed answer: <line>") for anything else.
core::Status answer_status(std::string_view line);
// A view answer line read back: numbers, strings, booleans, nulls and arrays of numbers
// become cells (timestamps stay the strings they print as). Errors as answer_status.
core::Result<Answer> parse_answer(std::string_view line);

}  // namespace pinstream::runtime
