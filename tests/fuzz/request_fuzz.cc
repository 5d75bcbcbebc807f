// libFuzzer target for the query protocol's request handler (SPEC section 7): any bytes as
// one request line must give one JSON object answer with a boolean "ok", never a crash,
// with and without committed state and views. Nesting past the handler's bound is a
// bad_request however deep (checked once at a million levels, then by the fuzzer's inputs).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "stream/query/handler.h"

namespace {

pinstream::runtime::QueryContext make_context() {
  pinstream::runtime::QueryContext ctx;
  ctx.committed = [] {
    pinstream::runtime::CommittedView v;
    v.epoch = 3;
    v.meta.counters["pin"] = {5, 3, 1, 1, 0};
    v.metrics.lag["pin"] = 7;
    v.metrics.lag_unit = pinstream::connectors::LagUnit::kRecords;
    return v;
  };
  ctx.started_at_micros = 1;
  ctx.cache = std::make_shared<pinstream::runtime::AnswerCache>(8);
  return ctx;
}

bool is_bad_request(const std::string& answer) {
  auto j = nlohmann::json::parse(answer, nullptr, false);
  return j.is_object() && j.contains("error") && j["error"].value("code", "") == "bad_request";
}

bool deep_requests_are_refused(const pinstream::runtime::QueryContext& ctx) {
  std::string deep(1'000'000, '[');
  std::string params = R"({"view":"v","params":{"a":)";
  for (int i = 0; i < 100'000; ++i) params += R"({"b":)";
  return is_bad_request(pinstream::runtime::handle_request(deep, ctx)) &&
         is_bad_request(pinstream::runtime::handle_request(params, ctx));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const pinstream::runtime::QueryContext ctx = make_context();
  static const bool deep_ok = deep_requests_are_refused(ctx);
  if (!deep_ok) std::abort();
  std::string_view line(reinterpret_cast<const char*>(data), size);
  std::string answer = pinstream::runtime::handle_request(line, ctx);
  auto j = nlohmann::json::parse(answer, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean())
    std::abort();
  if (!j["ok"].get<bool>() && (!j.contains("error") || !j["error"].contains("code"))) std::abort();
  return 0;
}
