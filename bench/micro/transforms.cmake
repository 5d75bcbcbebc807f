# Cleaning micro-benchmarks: decode + clean records/s for pin, geo, user over shared/data.
pinstream_bench(clean_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/clean_bench.cc LIBS pinstream_transforms)
get_filename_component(_pinstream_shared "${PROJECT_SOURCE_DIR}/../shared" ABSOLUTE)
target_compile_definitions(clean_bench PRIVATE PINSTREAM_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                           PINSTREAM_SHARED_DIR="${_pinstream_shared}")
