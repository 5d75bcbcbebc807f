target_sources(pinstream_connectors PRIVATE ${CMAKE_CURRENT_LIST_DIR}/files_source.cc)
