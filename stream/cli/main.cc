// pinstream: one binary, subcommands as SPEC section 1 lists them.
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "stream/cli/commands.h"
#include "stream/core/log.h"

int main(int argc, char** argv) {
  // Allocator settings (measured in bench/README.md, "Allocator settings"); a GLIBC_TUNABLES
  // entry for the same setting takes precedence.
  // - mmap_threshold 4 MiB: allocations of 4 MiB and more get their own mappings, returned
  //   when freed. glibc's default raises this threshold as large blocks are freed, and those
  //   blocks then fragment the threads' arenas, so peak RSS grows with the input. Below 4 MiB
  //   (RocksDB's write batch and arena blocks, a dictionary page, a long line's buffer) they
  //   come from the arenas: a mapping per block made every epoch fault its pages in again,
  //   at about 20 us a page on this machine's VM (bench/README.md, "Allocator").
  // - mxfast 0: no fastbins. Every allocation of 1 KiB or more would first consolidate the
  //   fastbins, so the small frees of the whole pipeline are paid by whichever thread asks
  //   for a big block next (snappy's working memory, once per Parquet page). Small blocks
  //   still come from the per-thread caches.
  // - trim_threshold 32 MiB: freed memory at the top of a heap is returned to the kernel
  //   only past 32 MiB instead of 128 KiB, so a freed page buffer is not faulted in again by
  //   the next allocation. What the arenas keep free is given back after each epoch's
  //   commit instead (malloc_trim, stream/commit_thread.cc; PINSTREAM_MALLOC_TRIM=0: not).
  // - arena_max: glibc's default (8 per core) unless PINSTREAM_MALLOC_ARENAS=N: fewer
  //   arenas keep less free memory but make threads share them (bench/README.md).
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  auto tune = [tunables](const char* name, int param, int value) {
    if (!tunables || !std::strstr(tunables, name)) mallopt(param, value);
  };
  tune("mmap_threshold", M_MMAP_THRESHOLD, 4 << 20);
  tune("mxfast", M_MXFAST, 0);
  tune("trim_threshold", M_TRIM_THRESHOLD, 32 << 20);
  if (const char* arenas = std::getenv("PINSTREAM_MALLOC_ARENAS"); arenas && *arenas)
    tune("arena_max", M_ARENA_MAX, std::max(1, std::atoi(arenas)));
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
  pinstream::cli::add_verify(app, exit);
  pinstream::cli::add_redrive(app, exit);
  pinstream::cli::add_optimize(app, exit);
  pinstream::cli::add_vacuum(app, exit);
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
