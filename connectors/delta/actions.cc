#include "connectors/delta/actions.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "stream/core/time.h"

namespace pinstream::connectors::delta {
using core::Status;
using core::Type;
using nlohmann::json;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string uuid4() {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(now_ms()));
  uint64_t a = rng(), b = rng();
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  return buf;
}

namespace {
const char* spark_type(Type t) {
  switch (t) {
    case Type::kLong:
      return "long";
    case Type::kDouble:
      return "double";
    case Type::kBool:
      return "boolean";
    case Type::kTimestamp:
      return "timestamp";
    default:
      return "string";
  }
}

json stat_value(const core::Value& v) {
  switch (v.type) {
    case Type::kLong:
      return v.i;
    case Type::kDouble:
      return v.d;
    case Type::kBool:
      return v.b;
    case Type::kString:
      return v.s;
    case Type::kTimestamp: {
      // Delta writers print milliseconds: "2021-03-04T05:06:07.123Z". The minimum is cut
      // down and the maximum rounded up to the millisecond so both stay bounds.
      int64_t ms = v.i >= 0 ? v.i / 1000 : -((-v.i + 999) / 1000);
      std::string s = core::format_timestamp(ms * 1000);
      char frac[8];
      std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(((ms % 1000) + 1000) % 1000));
      return s.substr(0, 19) + frac + "Z";
    }
    default:
      return nullptr;
  }
}
}  // namespace

std::string schema_string(const core::Schema& schema) {
  json fields = json::array();
  for (const auto& f : schema.fields()) {
    json type = f.type == Type::kDoubleArray
                    ? json{{"type", "array"}, {"elementType", "double"}, {"containsNull", true}}
                    : json(spark_type(f.type));
    fields.push_back(
        {{"name", f.name}, {"type", type}, {"nullable", f.nullable}, {"metadata", json::object()}});
  }
  return json({{"type", "struct"}, {"fields", fields}}).dump();
}

std::string stats_json(const core::Schema& schema, int64_t rows,
                       const std::vector<parquet::ColumnStats>& stats) {
  json mins = json::object(), maxs = json::object(), nulls = json::object();
  for (size_t i = 0; i < schema.size(); ++i) {
    const core::Field& f = schema.field(i);
    nulls[f.name] = stats[i].null_count;
    if (stats[i].min.is_null() || f.type == Type::kBool || f.type == Type::kDoubleArray) continue;
    if (f.type == Type::kString && stats[i].min.s.size() > 32) {
      std::string m = stats[i].min.s.substr(0, 32);
      while (!m.empty() && (static_cast<unsigned char>(m.back()) & 0xC0) == 0x80) m.pop_back();
      if (!m.empty() && static_cast<unsigned char>(m.back()) >= 0xC0) m.pop_back();
      mins[f.name] = m;
    } else {
      mins[f.name] = stat_value(stats[i].min);
    }
    if (f.type == Type::kTimestamp) {
      int64_t up = stats[i].max.i % 1000 == 0 ? stats[i].max.i : stats[i].max.i + 1000;
      maxs[f.name] = stat_value(core::Value::of_timestamp(up));
    } else if (!(f.type == Type::kString && stats[i].max.s.size() > 32)) {
      maxs[f.name] = stat_value(stats[i].max);
    }
  }
  return json(
             {{"numRecords", rows}, {"minValues", mins}, {"maxValues", maxs}, {"nullCount", nulls}})
      .dump();
}

std::string partition_value(const core::Value& v) {
  switch (v.type) {
    case Type::kNull:
      return "";
    case Type::kTimestamp: {
      std::string s = core::format_timestamp(v.i);
      s[10] = ' ';  // Delta's partition timestamp form: "yyyy-MM-dd HH:mm:ss[.SSSSSS]"
      return s;
    }
    default:
      return v.to_string();
  }
}

std::string partition_dir(const std::string& column, const std::string& value) {
  auto escape = [](const std::string& s) {
    std::string out;
    for (char ch : s) {
      auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == 0x7F ||
          std::string_view("\"#%'*/:=?\\{[]^").find(static_cast<char>(c)) !=
              std::string_view::npos) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    return out;
  };
  return escape(column) + "=" +
         (value.empty() ? std::string("__HIVE_DEFAULT_PARTITION__") : escape(value));
}

std::string commit_info_line(const std::string& operation, const std::string& params_json) {
  json params = json::parse(params_json, nullptr, false);
  if (params.is_discarded()) params = json::object();
  return json({{"commitInfo",
                {{"timestamp", now_ms()},
                 {"operation", operation},
                 {"operationParameters", params},
                 {"isBlindAppend", operation == "WRITE"},
                 {"engineInfo", "pinstream/0.1.0"}}}})
      .dump();
}

std::string AddFile::to_json() const {
  json pv = json::object();
  for (const auto& [k, v] : partition_values) pv[k] = v.empty() ? json(nullptr) : json(v);
  json j = {{"path", path},
            {"partitionValues", pv},
            {"size", size},
            {"modificationTime", modification_time},
            {"dataChange", true}};
  if (!stats_json.empty()) j["stats"] = stats_json;
  if (!tags.empty()) j["tags"] = tags;
  return j.dump();
}

namespace {
core::Result<AddFile> add_from(const json& j) {
  if (!j.is_object() || !j.contains("path") || !j["path"].is_string())
    return Status::corruption("add action without path");
  try {
    AddFile a;
    a.path = j.at("path").get<std::string>();
    a.size = j.value("size", int64_t{0});
    a.modification_time = j.value("modificationTime", int64_t{0});
    if (j.contains("stats") && j["stats"].is_string()) a.stats_json = j["stats"].get<std::string>();
    if (j.contains("partitionValues") && j["partitionValues"].is_object())
      for (const auto& [k, v] : j["partitionValues"].items())
        a.partition_values[k] = v.is_string() ? v.get<std::string>() : "";
    if (j.contains("tags") && j["tags"].is_object())
      for (const auto& [k, v] : j["tags"].items())
        if (v.is_string()) a.tags[k] = v.get<std::string>();
    if (!a.stats_json.empty()) {
      json s = json::parse(a.stats_json, nullptr, false);
      if (s.is_object()) a.num_records = s.value("numRecords", int64_t{0});
    }
    return a;
  } catch (const std::exception& e) {
    return Status::corruption(std::string("bad add action: ") + e.what());
  }
}
}  // namespace

core::Result<AddFile> AddFile::from_json(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::corruption("bad add action: " + std::string(text));
  return add_from(j);
}

Status Snapshot::apply_commit(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return Status::corruption("unreadable Delta action: " + std::string(line));
    try {
      if (j.contains("add")) {
        PS_ASSIGN_OR_RETURN(AddFile a, add_from(j["add"]));
        removed.erase(a.path);
        std::string p = a.path;
        active[p] = std::move(a);
      } else if (j.contains("remove")) {
        std::string p = j["remove"].at("path").get<std::string>();
        active.erase(p);
        removed[p] = j["remove"].value("deletionTimestamp", int64_t{0});
      } else if (j.contains("txn")) {
        std::string app = j["txn"].at("appId").get<std::string>();
        txn[app] = j["txn"].at("version").get<int64_t>();
        txn_updated[app] = j["txn"].value("lastUpdated", int64_t{0});
      } else if (j.contains("metaData")) {
        metadata_json = j["metaData"].dump();
        schema_string = j["metaData"].at("schemaString").get<std::string>();
      } else if (j.contains("protocol")) {
        min_reader = j["protocol"].value("minReaderVersion", 1);
        min_writer = j["protocol"].value("minWriterVersion", 2);
        reader_features = j["protocol"].value("readerFeatures", std::vector<std::string>());
        writer_features = j["protocol"].value("writerFeatures", std::vector<std::string>());
      }
    } catch (const std::exception& e) {
      return Status::corruption(std::string("bad Delta action: ") + e.what());
    }
  }
  return Status::ok();
}

}  // namespace pinstream::connectors::delta
