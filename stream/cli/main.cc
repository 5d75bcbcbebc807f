// pinstream: one binary, subcommands as SPEC section 1 lists them.
#include <cstdio>

#include "stream/cli/commands.h"
#include "stream/core/log.h"

int main(int argc, char** argv) {
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
