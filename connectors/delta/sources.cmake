target_sources(pinstream_connectors PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/actions.cc
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint.cc
  ${CMAKE_CURRENT_LIST_DIR}/checkpointer.cc
  ${CMAKE_CURRENT_LIST_DIR}/table_checkpoint.cc
  ${CMAKE_CURRENT_LIST_DIR}/log_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/protocol.cc
  ${CMAKE_CURRENT_LIST_DIR}/schema_evolution.cc
  ${CMAKE_CURRENT_LIST_DIR}/table.cc
  ${CMAKE_CURRENT_LIST_DIR}/upkeep_table.cc
  ${CMAKE_CURRENT_LIST_DIR}/optimize.cc
  ${CMAKE_CURRENT_LIST_DIR}/optimize_tiers.cc
  ${CMAKE_CURRENT_LIST_DIR}/log_cleanup.cc
  ${CMAKE_CURRENT_LIST_DIR}/vacuum.cc)
target_sources(pinstream_connectors PRIVATE ${CMAKE_CURRENT_LIST_DIR}/inspect.cc)
target_link_libraries(pinstream_connectors PRIVATE nlohmann_json::nlohmann_json)
