// The dashboard's files (stream/query/web/ and Chart.js), built into the binary by CMake
// (stream/query/embed_assets.cmake), so that the page needs no network.
#pragma once

#include <cstddef>
#include <string_view>

namespace pinstream::runtime {

struct WebAsset {
  std::string_view path;  // as served: "/", "/assets/app.js", ...
  std::string_view content_type;
  std::string_view data;
};

// The asset served at `path`, or nullptr.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace pinstream::runtime
