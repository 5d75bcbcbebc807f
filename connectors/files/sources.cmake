target_sources(pinstream_connectors PRIVATE ${CMAKE_CURRENT_LIST_DIR}/files_source.cc
               ${CMAKE_CURRENT_LIST_DIR}/file_partition.cc ${CMAKE_CURRENT_LIST_DIR}/file_position.cc
               ${CMAKE_CURRENT_LIST_DIR}/line_reader.cc ${CMAKE_CURRENT_LIST_DIR}/object_input.cc)
# --available-now: the files and their sizes when the run starts.
target_sources(pinstream_connectors PRIVATE ${CMAKE_CURRENT_LIST_DIR}/file_end.cc)
target_link_libraries(pinstream_connectors PRIVATE nlohmann_json::nlohmann_json)
