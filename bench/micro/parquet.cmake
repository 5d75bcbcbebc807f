pinstream_bench(parquet_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/parquet_bench.cc LIBS pinstream_connectors)
