// Query answers as the socket protocol carries them (SPEC section 7), and their rendering
// for humans: `{"ok":true,"epoch":N,"columns":[...],"rows":[[...]]}` or
// `{"ok":false,"error":{"code":...,"message":...}}`, printed as JSON, an aligned table or CSV.
#pragma once

#include <map>
#include <string>

#include "state/views.h"
#include "stream/core/status.h"

namespace pinstream::runtime {

// One JSON line (no trailing newline).
std::string answer_json(const state::ViewResult& result, int64_t epoch);
std::string error_json(const std::string& code, const std::string& message);

// Renders an answer line in `format` ("json", "table", "csv"). An error answer renders as
// its message and returns false.
bool render_answer(const std::string& answer_line, const std::string& format, std::string& out);

}  // namespace pinstream::runtime
