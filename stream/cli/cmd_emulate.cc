// `pinstream emulate`: the user_posting_emulation.py of this project (SPEC section 1).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <thread>

#include "connectors/aws/credentials.h"
#include "stream/cli/commands.h"
#include "stream/cli/common.h"
#include "stream/emulator/generator.h"
#include "stream/emulator/sink.h"
#include "stream/emulator/sinks.h"

namespace pinstream::cli {
namespace {

struct EmulateArgs {
  std::string config, sink = "kafka", out, brokers, rest_url, timestamps = "dataset", rate,
                      endpoint;
  int64_t first_ind = 0;
  int64_t count = -1;  // -1: until stopped (SIGINT/SIGTERM), as the seeds' `while True` loop
  uint64_t seed = 100;
  double duplicates = 0.1, malformed = 0.0;
  int partitions = 3;
};

std::atomic<bool> g_emulate_stop{false};
void on_emulate_signal(int) { g_emulate_stop.store(true); }

// Sleeps until `due`, waking early when a stop was asked for.
void sleep_until_or_stop(std::chrono::steady_clock::time_point due) {
  while (!g_emulate_stop.load()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= due) return;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(due - now, std::chrono::milliseconds(50)));
  }
}

// "50", "50/s" or "2.5/s" -> posts per second; 0 (as fast as possible) when empty.
std::optional<double> parse_rate(std::string text) {
  if (text.empty()) return 0.0;
  if (text.size() > 2 && text.compare(text.size() - 2, 2, "/s") == 0) text.resize(text.size() - 2);
  char* end = nullptr;
  double r = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(r >= 0)) return std::nullopt;
  return r;
}

// Where the posts go: the pipeline id and the sink's endpoints, from the flags, then the
// configuration's source settings, then the environment.
struct Target {
  std::string id = "pinterest";
  std::string brokers, endpoint, region, kafka_auth, msk_region;
};

// nullopt when the configuration cannot be loaded (reported: exit 2).
std::optional<Target> resolve_target(const EmulateArgs& a) {
  Target t;
  if (const char* env = std::getenv("PINSTREAM_ID"); env && *env) t.id = env;
  t.brokers = a.brokers;
  t.endpoint = a.endpoint;
  if (!a.config.empty()) {
    auto cfg = load_config_or_report(a.config);
    if (!cfg) return std::nullopt;
    t.id = cfg->id;
    if (cfg->source_settings) {
      auto setting = [&](const char* key, std::string& into) {
        if (auto v = cfg->source_settings->get_string(key, ""); v && into.empty()) into = *v;
      };
      if (cfg->source_kind == "kafka") {
        setting("bootstrap_servers", t.brokers);
        setting("auth", t.kafka_auth);  // msk-iam: the producer authenticates as the source does
        setting("region", t.msk_region);
      }
      if (cfg->source_kind == "kinesis") {
        setting("endpoint", t.endpoint);
        setting("region", t.region);
      }
    }
  }
  if (const char* env = std::getenv("PINSTREAM_KINESIS_ENDPOINT"); t.endpoint.empty() && env)
    t.endpoint = env;
  if (t.brokers.empty()) {
    const char* env = std::getenv("PINSTREAM_KAFKA");
    t.brokers = env && *env ? env : "127.0.0.1:9092";
  }
  if (t.kafka_auth != "msk-iam")
    t.msk_region.clear();
  else if (t.msk_region.empty())
    t.msk_region = connectors::aws::region_from_environment();
  return t;
}

// Posts --count posts (or until stopped) at --rate, or 0-1 s apart as the seeds do when
// posting forever without a rate. Returns how many were posted.
core::Result<int64_t> post(const EmulateArgs& a, double rate, const std::string& id,
                           runtime::emulator::Generator& gen, runtime::emulator::Sink& sink) {
  runtime::emulator::Record pin, geo, user;
  auto start = std::chrono::steady_clock::now();
  const bool forever = a.count < 0;
  std::mt19937_64 pause_rng(a.seed);
  std::uniform_int_distribution<int> pause_ms(0, 1000);
  int64_t posted = 0;
  for (int64_t i = 0; (forever || i < a.count) && !g_emulate_stop.load(); ++i) {
    if (a.timestamps == "now")
      gen.set_now_micros(std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
    gen.next(pin, geo, user);
    for (const auto* r : {&pin, &geo, &user})
      PS_RETURN_IF_ERROR(sink.send(id + "." + r->stream, *r));
    ++posted;
    if (rate > 0) {
      const std::chrono::duration<double> at(static_cast<double>(i + 1) / rate);
      sleep_until_or_stop(start +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(at));
    } else if (forever) {
      sleep_until_or_stop(std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(pause_ms(pause_rng)));
    }
  }
  PS_RETURN_IF_ERROR(sink.flush());
  return posted;
}

int run_emulate(const EmulateArgs& a) {
  const std::optional<double> rate = parse_rate(a.rate);
  if (!rate) {
    std::fprintf(stderr,
                 "pinstream emulate: --rate must be a number of posts per second such as 50/s\n");
    return 2;
  }
  if (a.count < -1 || a.duplicates < 0 || a.duplicates > 1 || a.malformed < 0 || a.malformed > 1) {
    std::fprintf(stderr, "pinstream emulate: --count must be >= 0 and the rates within [0, 1]\n");
    return 2;
  }
  std::optional<Target> t = resolve_target(a);
  if (!t) return 2;
  if (a.timestamps != "dataset" && a.timestamps != "now") {
    std::fprintf(stderr, "pinstream emulate: --timestamps must be dataset or now\n");
    return 2;
  }
  runtime::emulator::GeneratorOptions go;
  go.seed = a.seed;
  go.duplicate_rate = a.duplicates;
  go.malformed_rate = a.malformed;
  go.timestamps_now = a.timestamps == "now";
  go.first_ind = a.first_ind;
  auto sink = runtime::emulator::make_sink(
      a.sink, {a.out, t->brokers, a.rest_url, t->endpoint, t->region, a.partitions, t->msk_region});
  if (!sink) return report_error(sink.error());
  runtime::emulator::Generator gen(go);
  g_emulate_stop.store(false);
  std::signal(SIGINT, on_emulate_signal);
  std::signal(SIGTERM, on_emulate_signal);
  auto posted = post(a, *rate, t->id, gen, **sink);
  if (!posted) return report_error(posted.error());
  std::printf("emulated %lld posts (%lld records) into %s%s\n", static_cast<long long>(*posted),
              static_cast<long long>(*posted * 3), a.sink.c_str(),
              g_emulate_stop.load() ? " (stopped)" : "");
  return 0;
}

}  // namespace

void add_emulate(CLI::App& app, Exit& exit) {
  auto* cmd = app.add_subcommand("emulate", "Post random dirty posts (pin, geo, user records)");
  static EmulateArgs a;
  cmd->add_option("--config", a.config, "Pipeline configuration (its id and Kafka servers)");
  cmd->add_option("--count", a.count,
                  "Number of posts (default: until stopped with SIGINT/SIGTERM, sleeping 0-1 s "
                  "between posts unless --rate)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", a.seed, "Random seed (default 100)");
  cmd->add_option("--first-ind", a.first_ind,
                  "The first post's ind (default 0): a later run adds posts of new inds")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--rate", a.rate, "Posts per second, e.g. 50/s (default: as fast as possible)");
  cmd->add_option("--sink", a.sink, "kafka, kafka-rest, kinesis or files (default kafka)");
  cmd->add_option("--out", a.out, "Output root for --sink files");
  cmd->add_option("--brokers", a.brokers, "Kafka bootstrap servers (default PINSTREAM_KAFKA)");
  cmd->add_option("--rest-url", a.rest_url, "Kafka REST proxy URL for --sink kafka-rest");
  cmd->add_option("--endpoint", a.endpoint,
                  "Kinesis endpoint URL for --sink kinesis (default PINSTREAM_KINESIS_ENDPOINT)");
  cmd->add_option("--timestamps", a.timestamps, "dataset (2017-2022) or now");
  cmd->add_option("--duplicates-rate", a.duplicates,
                  "Share of posts that re-post an earlier row (default 0.1)");
  cmd->add_option("--malformed-rate", a.malformed,
                  "Share of posts with a malformed record (default 0)");
  cmd->add_option(
      "--partitions", a.partitions,
      "Partitions for --sink files, shards of a stream --sink kinesis creates (default 3)");
  cmd->callback([&exit] { exit.code = run_emulate(a); });
}

}  // namespace pinstream::cli
