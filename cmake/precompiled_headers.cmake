# One precompiled header shared by every first-party library (REUSE_FROM: built once): the
# standard headers most files include and spdlog (with fmt). Parsing them took a sixth to a
# quarter of a library file's CPU time (.ci/README.md). nlohmann::json is left out: loading
# it costs the files that do not use it more than it saves the ones that do (the header
# grows from 100 to 125 MB; each file loads it whole). The tests have their own
# (tests/CMakeLists.txt).
# -DPINSTREAM_PCH=OFF builds without it: the way to check that every file includes what it
# uses, which a precompiled header would hide.
if(PINSTREAM_PCH)
  file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/pinstream_library_pch.cc
       CONTENT "// The precompiled-header target's source (cmake/precompiled_headers.cmake).\n")
  add_library(pinstream_library_pch OBJECT ${PROJECT_BINARY_DIR}/pinstream_library_pch.cc)
  # The same flags as every library: pinstream_core's public dependencies (spdlog's
  # definitions), warnings, sanitizers.
  target_link_libraries(pinstream_library_pch PRIVATE spdlog::spdlog Threads::Threads
                        pinstream_warnings pinstream_sanitize)
  set(PINSTREAM_LIBRARY_PCH_HEADERS
    <algorithm> <atomic> <chrono> <cstdint> <cstring> <filesystem> <functional> <map>
    <memory> <mutex> <optional> <set> <sstream> <string> <string_view> <thread>
    <unordered_map> <utility> <variant> <vector> <spdlog/spdlog.h>)
  target_precompile_headers(pinstream_library_pch PRIVATE ${PINSTREAM_LIBRARY_PCH_HEADERS})
endif()

# pinstream_use_library_pch(<target> [<header>...]): the target reuses the libraries'
# precompiled header or, given more headers, builds its own with them added (CMake adds
# -Winvalid-pch: with -Werror an unusable header fails the build instead of silently making
# it slower). A source built with other code-generation flags (-march) needs
# SKIP_PRECOMPILE_HEADERS.
function(pinstream_use_library_pch target)
  if(NOT PINSTREAM_PCH)
    return()
  endif()
  if(ARGN)
    target_precompile_headers(${target} PRIVATE ${PINSTREAM_LIBRARY_PCH_HEADERS} ${ARGN})
  else()
    target_precompile_headers(${target} REUSE_FROM pinstream_library_pch)
  endif()
endfunction()
