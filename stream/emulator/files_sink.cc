#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>

#include "stream/emulator/sink.h"

namespace pinstream::runtime::emulator {
namespace {

// CRC-32 (IEEE 802.3, reflected, as zlib and librdkafka's rd_crc32 compute it).
uint32_t crc32(const std::string& s) {
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : s) {
    c ^= static_cast<unsigned char>(ch);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

class FilesSink final : public Sink {
 public:
  FilesSink(std::string root, int partitions, int64_t roll)
      : root_(std::move(root)), partitions_(partitions), roll_(roll) {}
  ~FilesSink() override { (void)flush(); }

  core::Status send(const std::string& topic, const Record& r) override {
    int p = partition_of(r.ind, partitions_);
    Part& part = parts_[{topic, p}];
    if (!part.file || part.in_file >= roll_) {
      if (part.file) std::fclose(part.file);
      std::filesystem::path dir =
          std::filesystem::path(root_) / "topics" / topic / ("partition=" + std::to_string(p));
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      std::string name =
          topic + "+" + std::to_string(p) + "+" + std::to_string(part.offset) + ".json";
      part.file = std::fopen((dir / name).c_str(), "wb");
      if (!part.file) return core::Status::io("cannot create " + (dir / name).string());
      part.in_file = 0;
    }
    std::fwrite(r.json.data(), 1, r.json.size(), part.file);
    std::fputc('\n', part.file);
    part.in_file++;
    part.offset++;
    return core::Status::ok();
  }

  core::Status flush() override {
    for (auto& [k, part] : parts_) {
      if (part.file && std::fflush(part.file) != 0)
        return core::Status::io("cannot write under " + root_);
    }
    return core::Status::ok();
  }

 private:
  struct Part {
    FILE* file = nullptr;
    int64_t offset = 0;
    int64_t in_file = 0;
    ~Part() {
      if (file) std::fclose(file);
    }
  };
  std::string root_;
  int partitions_;
  int64_t roll_;
  std::map<std::pair<std::string, int>, Part> parts_;
};

}  // namespace

int partition_of(int64_t ind, int partitions) {
  if (partitions < 1) return 0;
  return static_cast<int>(crc32(std::to_string(ind)) % static_cast<uint32_t>(partitions));
}

std::unique_ptr<Sink> make_files_sink(const std::string& root, int partitions,
                                      int64_t roll_records) {
  return std::make_unique<FilesSink>(root, partitions < 1 ? 1 : partitions, roll_records);
}

}  // namespace pinstream::runtime::emulator
