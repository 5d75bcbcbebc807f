#include <cstdio>

#include "stream/cli/commands.h"

namespace pinstream::cli {

int not_implemented(const char* what) {
  std::fprintf(stderr, "pinstream %s: not implemented yet\n", what);
  return 2;
}

}  // namespace pinstream::cli
