target_sources(pinstream_connectors PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/encoding.cc
  ${CMAKE_CURRENT_LIST_DIR}/schema_tree.cc
  ${CMAKE_CURRENT_LIST_DIR}/dictionary.cc
  ${CMAKE_CURRENT_LIST_DIR}/column_writer.cc
  ${CMAKE_CURRENT_LIST_DIR}/columnar_file.cc
  ${CMAKE_CURRENT_LIST_DIR}/writer.cc
  ${CMAKE_CURRENT_LIST_DIR}/reader.cc)
target_link_libraries(pinstream_connectors PRIVATE Snappy::snappy)
