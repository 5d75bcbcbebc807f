// Floors for the e2e bench's "where the time goes" table: what the hardware and the best
// libraries need, on one core, for the bytes the pipeline handles. Reads every NDJSON file
// under ROOT (an S3-sink layout) and times, in thread CPU and wall time:
//   read      the files into memory (from the page cache once warm)
//   memcpy    one copy of all the input bytes
//   simdjson  DOM-parse every line (simdjson's own benchmark mode: one reused parser)
//   ondemand  on-demand: visit every field of every line, read string values (unescaped)
//   snappy    compress all the input bytes in 32 KiB blocks (the writer's page size)
//   write     write OUT_BYTES bytes to a file in 1 MiB writes, then fsync
// Usage: floor ROOT [OUT_BYTES] [SCRATCH_FILE]
#include <simdjson.h>
#include <snappy.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

double thread_cpu() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
double wall() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Timer {
  const char* name;
  double c0 = thread_cpu(), w0 = wall();
  void done(size_t bytes, const char* note = "") const {
    double c = thread_cpu() - c0, w = wall() - w0;
    std::printf("%-9s cpu %7.1f ms  wall %7.1f ms  %8.0f MB/s  %s\n", name, c * 1e3, w * 1e3,
                static_cast<double>(bytes) / 1e6 / c, note);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: floor ROOT [OUT_BYTES] [SCRATCH_FILE]\n");
    return 2;
  }
  const size_t out_bytes = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
  const std::string scratch = argc > 3 ? argv[3] : "/tmp/pinstream-floor.bin";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(argv[1]))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());

  size_t total = 0;
  for (const auto& f : files) total += std::filesystem::file_size(f);
  std::string all(total, '\0');  // allocated and touched before the clock starts
  {
    Timer t{"read"};
    size_t at = 0;
    for (const auto& f : files) {
      FILE* in = std::fopen(f.c_str(), "rb");
      if (!in) return 1;
      for (ssize_t n; (n = ::read(fileno(in), all.data() + at, 1 << 16)) > 0;)
        at += static_cast<size_t>(n);
      std::fclose(in);
    }
    t.done(at, "(read(2) in 64 KiB, page cache)");
  }
  {
    std::string copy(all.size(), '\0');
    Timer t{"memcpy"};
    std::memcpy(copy.data(), all.data(), all.size());
    t.done(all.size());
  }
  std::vector<std::string_view> lines;
  for (size_t at = 0; at < all.size();) {
    size_t nl = all.find('\n', at);
    if (nl == std::string::npos) nl = all.size();
    if (nl > at) lines.emplace_back(all.data() + at, nl - at);
    at = nl + 1;
  }
  {
    simdjson::dom::parser parser;
    size_t ok = 0;
    Timer t{"simdjson"};
    for (auto l : lines) {
      simdjson::dom::element doc;
      if (!parser.parse(l.data(), l.size(), true).get(doc)) ok++;  // realloc-if-needed copy
    }
    char note[64];
    std::snprintf(note, sizeof note, "(DOM, %zu of %zu lines parse)", ok, lines.size());
    t.done(all.size(), note);
  }
  {
    simdjson::ondemand::parser parser;
    simdjson::padded_string buf;
    size_t fields = 0, string_bytes = 0;
    Timer t{"ondemand"};
    for (auto l : lines) {
      buf = simdjson::padded_string(l);  // on-demand needs padding: one copy per line
      simdjson::ondemand::document doc;
      if (parser.iterate(buf).get(doc)) continue;
      simdjson::ondemand::object obj;
      if (doc.get_object().get(obj)) continue;
      for (auto field : obj) {
        simdjson::ondemand::value v;
        if (field.value().get(v)) break;
        std::string_view s;
        if (!v.get_string().get(s)) string_bytes += s.size();
        fields++;
      }
    }
    char note[96];
    std::snprintf(note, sizeof note, "(%zu fields, %.0f MB of strings)", fields,
                  static_cast<double>(string_bytes) / 1e6);
    t.done(all.size(), note);
  }
  {
    std::string out;
    size_t compressed = 0;
    constexpr size_t kPage = 32 * 1024;
    Timer t{"snappy"};
    for (size_t at = 0; at < all.size(); at += kPage) {
      snappy::Compress(all.data() + at, std::min(kPage, all.size() - at), &out);
      compressed += out.size();
    }
    char note[64];
    std::snprintf(note, sizeof note, "(32 KiB blocks, ratio %.2f)",
                  static_cast<double>(all.size()) / static_cast<double>(compressed));
    t.done(all.size(), note);
  }
  if (out_bytes > 0) {
    std::string block(1 << 20, 'x');
    Timer t{"write"};
    FILE* f = std::fopen(scratch.c_str(), "wb");
    if (!f) return 1;
    for (size_t left = out_bytes; left > 0;) {
      size_t n = std::min(left, block.size());
      if (::write(fileno(f), block.data(), n) != static_cast<ssize_t>(n)) return 1;
      left -= n;
    }
    ::fsync(fileno(f));
    std::fclose(f);
    t.done(out_bytes, "(1 MiB writes + fsync)");
    std::filesystem::remove(scratch);
  }
  return 0;
}
