// pinstream: one binary, subcommands as SPEC section 1 lists them.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "stream/cli/commands.h"
#include "stream/core/log.h"

int main(int argc, char** argv) {
  // Allocations of 512 KiB and more (per-epoch Parquet chunk buffers, RocksDB arena blocks)
  // get their own mappings, returned when freed. glibc's default raises this threshold as
  // large blocks are freed, and those blocks then fragment the threads' arenas: peak RSS
  // grew with the input (200k / 1M / 2M posts: 103 / 132 / 146 MiB; with 512 KiB: 93 / 110 /
  // 114 MiB; equal time at 200k posts, 3-8% more at 2M). GLIBC_TUNABLES=glibc.malloc.
  // mmap_threshold=N overrides it.
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (!tunables || !std::strstr(tunables, "mmap_threshold")) mallopt(M_MMAP_THRESHOLD, 512 << 10);
  CLI::App app{"pinstream: a stream processor for Kafka, Kinesis and S3-sink files"};
  app.require_subcommand(1);
  bool json_logs = false;
  std::string level = "info";
  app.add_flag("--log-json", json_logs, "Log one JSON object per line");
  app.add_option("--log-level", level, "trace, debug, info, warn, error");
  pinstream::cli::Exit exit;
  pinstream::cli::add_run(app, exit);
  pinstream::cli::add_replay(app, exit);
  pinstream::cli::add_query(app, exit);
  pinstream::cli::add_emulate(app, exit);
  pinstream::cli::add_broker(app, exit);
  pinstream::cli::add_checkpoints(app, exit);
  pinstream::cli::add_validate(app, exit);
  app.parse_complete_callback([&] {
    pinstream::core::setup_logging(
        json_logs ? pinstream::core::LogFormat::kJson : pinstream::core::LogFormat::kText, level);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return exit.code;
}
