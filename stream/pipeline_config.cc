#include "stream/pipeline_config.h"

#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "connectors/delta/vacuum.h"
#include "connectors/objstore/s3_store.h"
#include "stream/query/http.h"

namespace pinstream::runtime {
using core::ConfigNode;
using core::Result;
using core::Status;

int PipelineConfig::stream_index(const std::string& name) const {
  for (size_t i = 0; i < streams.size(); ++i)
    if (streams[i].name == name) return static_cast<int>(i);
  return -1;
}

namespace {

// runtime.http {listen, token}: a non-loopback address without a token is refused here, so
// that `validate` says so too.
Status read_http(const ConfigNode* n, RuntimeConfig& rt) {
  const char* env_token = std::getenv("PINSTREAM_HTTP_TOKEN");
  rt.http_token = env_token ? env_token : "";
  if (!n) return Status::ok();
  if (!n->is_map()) return n->error("expected a map with listen and token");
  PS_ASSIGN_OR_RETURN(rt.http_listen, n->get_string("listen", ""));
  PS_ASSIGN_OR_RETURN(rt.http_token, n->get_string("token", rt.http_token));
  PS_RETURN_IF_ERROR(n->reject_unknown_keys());
  if (rt.http_listen.empty()) return Status::ok();
  std::string host;
  int port = 0;
  Status st = http::split_listen_address(rt.http_listen, host, port);
  if (!st.is_ok()) return n->find("listen")->error(st.message());
  if (rt.http_token.empty() && !http::is_loopback_host(host))
    return n->find("listen")->error("'" + rt.http_listen +
                                    "' is not a loopback address: set a token "
                                    "(PINSTREAM_HTTP_TOKEN or runtime.http.token), or listen on "
                                    "127.0.0.1 and use an SSH tunnel or a reverse proxy");
  return Status::ok();
}

Status read_runtime(const ConfigNode* n, RuntimeConfig& rt) {
  if (!n) return Status::ok();
  if (!n->is_map()) return n->error("expected a map");
  PS_ASSIGN_OR_RETURN(rt.data_dir, n->get_string("data_dir", rt.data_dir));
  PS_ASSIGN_OR_RETURN(rt.epoch_interval_ms, n->get_int("epoch_interval_ms", rt.epoch_interval_ms));
  PS_ASSIGN_OR_RETURN(rt.epoch_max_records, n->get_int("epoch_max_records", rt.epoch_max_records));
  PS_ASSIGN_OR_RETURN(rt.checkpoint_every_epochs,
                      n->get_int("checkpoint_every_epochs", rt.checkpoint_every_epochs));
  PS_ASSIGN_OR_RETURN(rt.checkpoint_retention,
                      n->get_int("checkpoint_retention", rt.checkpoint_retention));
  PS_ASSIGN_OR_RETURN(rt.max_record_bytes, n->get_int("max_record_bytes", rt.max_record_bytes));
  PS_ASSIGN_OR_RETURN(rt.socket, n->get_string("socket", rt.socket));
  PS_ASSIGN_OR_RETURN(rt.metrics_port, n->get_int("metrics_port", rt.metrics_port));
  if (rt.metrics_port < 0 || rt.metrics_port > 65535)
    return n->find("metrics_port")->error("must be a TCP port (1-65535) or 0 for none");
  PS_ASSIGN_OR_RETURN(rt.poll_batch, n->get_int("poll_batch", rt.poll_batch));
  PS_ASSIGN_OR_RETURN(rt.checkpoints, n->get_string("checkpoints", rt.checkpoints));
  PS_ASSIGN_OR_RETURN(rt.peer_stale_ms, n->get_int("peer_stale_ms", rt.peer_stale_ms));
  PS_RETURN_IF_ERROR(read_http(n->find("http"), rt));
  struct Positive {
    const char* key;
    int64_t v;
  };
  for (auto [key, v] :
       {Positive{"epoch_interval_ms", rt.epoch_interval_ms},
        Positive{"epoch_max_records", rt.epoch_max_records},
        Positive{"checkpoint_every_epochs", rt.checkpoint_every_epochs},
        Positive{"checkpoint_retention", rt.checkpoint_retention},
        Positive{"max_record_bytes", rt.max_record_bytes}, Positive{"poll_batch", rt.poll_batch},
        Positive{"peer_stale_ms", rt.peer_stale_ms}}) {
    if (v <= 0) return n->find(key)->error("must be a positive integer");
  }
  if (rt.data_dir.empty()) return n->error("data_dir must not be empty");
  return n->reject_unknown_keys();
}

Status read_stream(const std::string& name, const ConfigNode& n, const std::string& kind,
                   StreamConfig& s) {
  if (!n.is_map()) return n.error("expected a map");
  s.name = name;
  PS_ASSIGN_OR_RETURN(s.key, n.get_string("key"));
  PS_ASSIGN_OR_RETURN(s.event_time, n.get_string("event_time", ""));
  PS_ASSIGN_OR_RETURN(s.table, n.get_string("table", ""));
  PS_ASSIGN_OR_RETURN(s.allowed_lateness_ms, n.get_int("allowed_lateness_ms", 0));
  if (s.allowed_lateness_ms < 0)
    return n.find("allowed_lateness_ms")->error("must not be negative");
  PS_ASSIGN_OR_RETURN(s.max_future_ms, n.get_int("max_future_ms", s.max_future_ms));
  if (s.max_future_ms <= 0)
    return n.find("max_future_ms")->error("must be a positive number of milliseconds");
  PS_ASSIGN_OR_RETURN(const ConfigNode* src, n.get("source"));
  if (!src->is_map()) return src->error("expected a map of source kinds (kafka, kinesis, files)");
  for (const auto& [k, v] : src->entries()) {
    if (k != "kafka" && k != "kinesis" && k != "files")
      return v.error("unknown source kind '" + k + "' (expected kafka, kinesis or files)");
    (void)src->find(k);  // every kind's settings are accepted; only the active one is used
  }
  s.source = src->find(kind);
  if (!s.source)
    return src->error("stream '" + name + "' has no settings for source kind '" + kind + "'");
  if (const ConfigNode* a = n.find("archive")) {
    if (!a->is_map()) return a->error("expected a map {root, topic}");
    PS_ASSIGN_OR_RETURN(s.archive_root, a->get_string("root"));
    if (s.archive_root.empty()) return a->find("root")->error("must not be empty");
    std::string fallback = name;
    for (const char* k : {"topic", "stream"})
      if (s.source->is_map() && s.source->find(k)) {
        PS_ASSIGN_OR_RETURN(fallback, s.source->get_string(k));
      }
    PS_ASSIGN_OR_RETURN(s.archive_topic, a->get_string("topic", fallback));
    if (s.archive_topic.empty() || s.archive_topic.find('/') != std::string::npos ||
        s.archive_topic.find('+') != std::string::npos)
      return a->error("archive topic must be a non-empty name without '/' or '+'");
    PS_RETURN_IF_ERROR(a->reject_unknown_keys());
  }
  PS_ASSIGN_OR_RETURN(s.rescue, n.get_bool("rescue", false));
  PS_ASSIGN_OR_RETURN(s.input, n.get("input"));
  if (!s.input->is_map()) return s.input->error("expected a map of raw field -> type");
  s.steps = n.find("steps");
  if (s.steps && !s.steps->is_sequence() && !s.steps->is_null())
    return s.steps->error("expected a list of steps");
  return n.reject_unknown_keys();
}

Status read_join(const ConfigNode& n, const PipelineConfig& p, JoinConfig& j) {
  if (!n.is_map()) return n.error("expected a map");
  PS_ASSIGN_OR_RETURN(j.name, n.get_string("name", j.name));
  PS_ASSIGN_OR_RETURN(const ConfigNode* streams, n.get("streams"));
  PS_ASSIGN_OR_RETURN(j.streams, streams->as_string_list());
  if (j.streams.size() < 2) return streams->error("a join needs at least two streams");
  std::set<std::string> seen;
  for (const auto& s : j.streams) {
    if (p.stream_index(s) < 0) return streams->error("unknown stream '" + s + "'");
    if (!seen.insert(s).second) return streams->error("stream '" + s + "' listed twice");
  }
  PS_ASSIGN_OR_RETURN(j.key, n.get_string("key"));
  PS_ASSIGN_OR_RETURN(j.expire_after_ms, n.get_int("expire_after_ms", j.expire_after_ms));
  if (j.expire_after_ms <= 0) return n.find("expire_after_ms")->error("must be positive");
  j.derive = n.find("derive");
  return n.reject_unknown_keys();
}

// `key: <duration>` ("24h", "7d"...) into `ms`; `off` (when allowed) is 0.
Status read_duration(const ConfigNode& n, std::string_view key, bool allow_off, int64_t& ms) {
  const ConfigNode* v = n.find(key);
  if (!v) return Status::ok();
  PS_ASSIGN_OR_RETURN(std::string text, v->as_string());
  if (allow_off && text == "off") {
    ms = 0;
    return Status::ok();
  }
  auto parsed = connectors::delta::parse_duration_ms(text);
  if (!parsed || (allow_off && *parsed == 0))
    return v->error("'" + text + "' is not a duration: give a whole number and a unit (s, m, h, " +
                    (allow_off ? "d), such as 24h or 7d, or off" : "d), such as 168h, 7d or 0h"));
  ms = *parsed;
  return Status::ok();
}

Status read_upkeep(const ConfigNode* n, UpkeepConfig& u) {
  if (!n) return Status::ok();
  if (!n->is_map()) return n->error("expected a map");
  PS_ASSIGN_OR_RETURN(u.min_files, n->get_int("min_files", u.min_files));
  PS_ASSIGN_OR_RETURN(u.target_file_bytes, n->get_int("target_file_bytes", u.target_file_bytes));
  PS_ASSIGN_OR_RETURN(u.auto_compact, n->get_bool("auto_compact", u.auto_compact));
  PS_ASSIGN_OR_RETURN(u.check_interval_ms, n->get_int("check_interval_ms", u.check_interval_ms));
  if (u.check_interval_ms < 10) return n->error("check_interval_ms must be at least 10");
  if (u.min_files < 2) return n->error("min_files must be at least 2");
  if (u.target_file_bytes < 1024) return n->error("target_file_bytes must be at least 1024");
  PS_RETURN_IF_ERROR(read_duration(*n, "vacuum_interval", true, u.vacuum_interval_ms));
  PS_RETURN_IF_ERROR(read_duration(*n, "vacuum_retain", false, u.vacuum_retain_ms));
  return n->reject_unknown_keys();
}

Status read_tables(const ConfigNode* n, TablesConfig& t) {
  if (!n) return Status::ok();
  if (!n->is_map()) return n->error("expected a map");
  std::string default_root = t.root;
  PS_ASSIGN_OR_RETURN(t.root, n->get_string("root", t.root));
  if (t.root.empty())
    t.root = default_root;  // `root: ${PINSTREAM_TABLES:-}` unset: <data_dir>/tables
  if (const ConfigNode* root = n->find("root"); root && t.root.find("://") != std::string::npos) {
    // A URL must name a store: s3://bucket[/prefix] (checked for reachability at start).
    if (connectors::objstore::is_remote_url(t.root)) {
      auto loc = connectors::objstore::parse_s3_url(t.root);
      if (!loc) return root->error(loc.error().message());
      while (t.root.back() == '/') t.root.pop_back();
    } else if (t.root.rfind("file://", 0) != 0) {
      return root->error("unsupported tables root " + t.root +
                         ": use a local path or s3://bucket/prefix");
    }
  }
  PS_ASSIGN_OR_RETURN(t.dead_letters, n->get_string("dead_letters", t.dead_letters));
  PS_ASSIGN_OR_RETURN(t.late_records, n->get_string("late_records", t.late_records));
  PS_ASSIGN_OR_RETURN(t.join_expired, n->get_string("join_expired", t.join_expired));
  PS_ASSIGN_OR_RETURN(t.commit_every, n->get_int("commit_every", t.commit_every));
  if (t.commit_every < 1) return n->find("commit_every")->error("must be a positive integer");
  PS_RETURN_IF_ERROR(read_upkeep(n->find("upkeep"), t.upkeep));
  return n->reject_unknown_keys();
}

}  // namespace

Result<PipelineConfig> parse_pipeline_config(std::shared_ptr<ConfigNode> root,
                                             const std::string& file) {
  PipelineConfig p;
  p.file = file;
  p.root = root;
  const ConfigNode& r = *root;
  if (!r.is_map()) return r.error("the configuration must be a map");
  if (const ConfigNode* pl = r.find("pipeline")) {
    PS_ASSIGN_OR_RETURN(p.id, pl->get_string("id", p.id));
    PS_ASSIGN_OR_RETURN(std::string tasks, pl->get_string("tasks", "single"));
    if (tasks == "partitions")
      p.tasks = TaskMode::kPartitions;
    else if (tasks != "single")
      return pl->find("tasks")->error("unknown tasks mode '" + tasks +
                                      "' (expected single or partitions)");
    PS_RETURN_IF_ERROR(pl->reject_unknown_keys());
  }
  PS_RETURN_IF_ERROR(read_runtime(r.find("runtime"), p.runtime));
  PS_ASSIGN_OR_RETURN(const ConfigNode* src, r.get("source"));
  PS_ASSIGN_OR_RETURN(p.source_kind, src->get_string("kind"));
  if (p.source_kind != "kafka" && p.source_kind != "kinesis" && p.source_kind != "files")
    return src->find("kind")->error("unknown source kind '" + p.source_kind +
                                    "' (expected kafka, kinesis or files)");
  for (const char* k : {"kafka", "kinesis", "files"}) (void)src->find(k);
  p.source_settings = src->find(p.source_kind);
  if (p.tasks == TaskMode::kPartitions && p.source_kind == "kinesis")
    return r.find("pipeline")
        ->find("tasks")
        ->error(
            "tasks: partitions needs numbered partitions (Kafka, or files in the S3-sink layout); "
            "a Kinesis source runs with tasks: single");
  PS_RETURN_IF_ERROR(src->reject_unknown_keys());

  PS_ASSIGN_OR_RETURN(const ConfigNode* streams, r.get("streams"));
  if (!streams->is_map() || streams->entries().empty())
    return streams->error("expected a map of one or more streams");
  for (const auto& [name, node] : streams->entries()) {
    (void)streams->find(name);
    StreamConfig s;
    PS_RETURN_IF_ERROR(read_stream(name, node, p.source_kind, s));
    // The archive deletes files no committed epoch wrote: never let it share the folder
    // the files source reads.
    if (!s.archive_root.empty() && p.source_kind == "files" && p.source_settings &&
        p.source_settings->find("root")) {
      PS_ASSIGN_OR_RETURN(std::string files_root, p.source_settings->get_string("root"));
      std::error_code ec;
      auto a = std::filesystem::weakly_canonical(s.archive_root, ec).string() + "/";
      auto f = std::filesystem::weakly_canonical(files_root, ec).string() + "/";
      if (!files_root.empty() && (a.rfind(f, 0) == 0 || f.rfind(a, 0) == 0))
        return node.find("archive")->error("the raw archive root " + s.archive_root +
                                           " overlaps the files source root " + files_root +
                                           "; archive elsewhere");
    }
    p.streams.push_back(s);
  }
  if (const ConfigNode* j = r.find("join")) {
    p.has_join = true;
    PS_RETURN_IF_ERROR(read_join(*j, p, p.join));
  }
  p.aggregates = r.find("aggregates");
  p.views = r.find("views");
  if ((p.aggregates || p.views) && !p.has_join)
    return (p.aggregates ? p.aggregates : p.views)->error("aggregates and views need a `join`");
  p.tables.root = p.runtime.data_dir + "/tables";
  PS_RETURN_IF_ERROR(read_tables(r.find("tables"), p.tables));
  // A group's files wait for its last epoch unreferenced: vacuum keeps such orphans for an
  // hour (connectors/delta/vacuum.h), so a group must end well within it.
  if (p.tables.commit_every > 1 &&
      p.tables.commit_every * p.runtime.epoch_interval_ms > connectors::delta::kMinOrphanAgeMs / 2)
    return r.find("tables")
        ->find("commit_every")
        ->error(
            "commit_every x runtime.epoch_interval_ms must stay within 30 minutes (a group's files "
            "are unreferenced until its commit, and vacuum deletes such files after an hour): "
            "lower commit_every");
  PS_RETURN_IF_ERROR(r.reject_unknown_keys());
  return p;
}

Result<PipelineConfig> load_pipeline_config(const std::string& path) {
  PS_ASSIGN_OR_RETURN(core::ConfigNode root, core::load_config_file(path));
  return parse_pipeline_config(std::make_shared<ConfigNode>(std::move(root)), path);
}

std::string PipelineConfig::describe() const {
  std::ostringstream os;
  os << "pipeline " << id << " (" << file << ")\n";
  os << "  data_dir: " << runtime.data_dir << "  epoch: " << runtime.epoch_interval_ms << " ms or "
     << runtime.epoch_max_records << " records  checkpoint: every "
     << runtime.checkpoint_every_epochs << " epochs, keep " << runtime.checkpoint_retention
     << " in " << runtime.checkpoints_dir() << "\n";
  os << "  source: " << source_kind << "\n";
  if (tasks == TaskMode::kPartitions) os << "  tasks: one per partition number\n";
  for (const auto& s : streams) {
    os << "  stream " << s.name << ": key " << s.key;
    if (s.source) {
      for (const auto& [k, v] : s.source->entries())
        if (v.is_scalar()) os << ", " << k << " " << v.scalar();
    }
    if (!s.table.empty()) os << ", table " << s.table;
    os << "\n";
  }
  if (has_join) {
    os << "  join " << join.name << " on " << join.key << ":";
    for (const auto& s : join.streams) os << " " << s;
    os << " (parts expire after " << join.expire_after_ms << " ms)\n";
  }
  os << "  tables under " << tables.root << "\n";
  if (!runtime.http_listen.empty())  // never the token
    os << "  HTTP on " << runtime.http_listen
       << (runtime.http_token.empty() ? "" : " (bearer token)") << "\n";
  return os.str();
}

}  // namespace pinstream::runtime
