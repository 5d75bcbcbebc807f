// Fuzzes decode + clean: any bytes go through the default pipeline's three Cleaners (and
// one with a small size limit). Besides crashes and sanitizer reports, it checks what a
// clean row promises: output width, a non-null long key, every cell null or of its
// column's type, and a non-empty reason on failure. Each input is also nested inside an
// ignored field as deep as its first 12 bits say (up to 4,095 levels, 32 times the cap:
// deeper than JsonDecoder::kMaxDepth must never clean, nor overflow the stack), and one
// input in 16 is built into the dead letter of an oversized record (raw bounded, reason
// with size and SHA-256).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stream/core/sha256.h"
#include "transforms/cleaner.h"
#include "transforms/dead_letter.h"
#include "transforms/json_decoder.h"

namespace {
using pinstream::core::Type;
using pinstream::transforms::Cleaner;

std::vector<std::unique_ptr<Cleaner>> build_cleaners() {
  auto root = pinstream::core::load_config_file(std::string(PINSTREAM_SOURCE_DIR) +
                                                "/examples/pinterest/pipeline.yaml");
  if (!root) {
    std::fprintf(stderr, "%s\n", root.error().message().c_str());
    std::abort();
  }
  std::vector<std::unique_ptr<Cleaner>> out;
  for (const char* stream : {"pin", "geo", "user", "user"}) {
    const pinstream::core::ConfigNode* s = root->find("streams")->find(stream);
    size_t limit = out.size() == 3 ? 64 : 1 << 20;  // the last one exercises the size limit
    auto c = Cleaner::build(*s->find("input"), s->find("steps"), "ind", limit);
    if (!c) {
      std::fprintf(stderr, "%s\n", c.error().message().c_str());
      std::abort();
    }
    out.push_back(std::move(*c));
  }
  return out;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// Cleans `raw` with every cleaner; returns how many accepted it.
int clean_all(std::string_view raw) {
  static std::vector<std::unique_ptr<Cleaner>> cleaners = build_cleaners();
  static pinstream::core::Row row;
  int accepted = 0;
  for (auto& cleaner : cleaners) {
    pinstream::core::Status st = cleaner->clean(raw, row);
    if (!st.is_ok()) {
      check(!st.message().empty(), "a dead letter has a reason");
      continue;
    }
    ++accepted;
    const auto& schema = cleaner->output_schema();
    check(row.size() == schema.size(), "row width equals the output schema");
    const auto& key = row[static_cast<size_t>(cleaner->key_index())];
    check(key.type == Type::kLong, "the key is a non-null long");
    for (size_t i = 0; i < row.size(); ++i) {
      Type want = schema.field(i).type;
      check(row[i].is_null() || want == Type::kAny || row[i].type == want,
            "cells have their column's type");
    }
  }
  return accepted;
}

void check_deep(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const size_t depth = data[0] | static_cast<size_t>(data[1] & 0x0f) << 8;  // < 4096
  std::string_view inner(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::string deep = R"({"ind": 1, "index": 1, "ignored": )";
  deep.append(depth, '[').append(inner.empty() ? "0" : inner).append(depth, ']').append("}");
  int accepted = clean_all(deep);
  // The record object is level 1, the field's first array level 2.
  check(accepted == 0 || depth + 1 <= pinstream::transforms::JsonDecoder::kMaxDepth,
        "a record nested deeper than the cap is never clean");
}

void check_oversized(std::string_view raw) {
  using pinstream::transforms::kDeadLetterRawBytes;
  pinstream::core::RawRecord rec;
  rec.bytes.reserve(kDeadLetterRawBytes + raw.size() + 1);
  while (rec.bytes.size() <= kDeadLetterRawBytes) rec.bytes.append(raw.empty() ? "x" : raw);
  auto d = pinstream::transforms::make_dead_letter(rec, "too big", 64);
  check(d.raw.size() <= (kDeadLetterRawBytes + 2) / 3 * 4, "a dead letter's raw is bounded");
  check(d.reason.find("sha256 " + pinstream::core::sha256_hex(rec.bytes)) != std::string::npos,
        "an oversized dead letter names the whole record's hash");
  if (d.encoding == "utf8")
    check(rec.bytes.compare(0, d.raw.size(), d.raw) == 0 && d.raw.size() + 3 >= kDeadLetterRawBytes,
          "a UTF-8 dead letter keeps a prefix cut at most 3 bytes short");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  clean_all(raw);
  check_deep(data, size);
  if (size > 0 && (data[0] & 0x0f) == 1) check_oversized(raw);  // it hashes 64 KiB
  return 0;
}
