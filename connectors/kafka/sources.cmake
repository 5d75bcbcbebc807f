target_sources(pinstream_connectors PRIVATE ${CMAKE_CURRENT_LIST_DIR}/producer.cc
  ${CMAKE_CURRENT_LIST_DIR}/mock_cluster.cc ${CMAKE_CURRENT_LIST_DIR}/kafka_settings.cc
  ${CMAKE_CURRENT_LIST_DIR}/kafka_source.cc ${CMAKE_CURRENT_LIST_DIR}/kafka_assignment.cc
  ${CMAKE_CURRENT_LIST_DIR}/kafka_lanes.cc)
# --available-now: the high watermarks when the run starts.
target_sources(pinstream_connectors PRIVATE ${CMAKE_CURRENT_LIST_DIR}/end_offsets.cc)
target_link_libraries(pinstream_connectors PRIVATE PkgConfig::RDKAFKA)
# source.kafka.auth: msk-iam (SASL/OAUTHBEARER with the MSK IAM token).
target_sources(pinstream_connectors PRIVATE ${CMAKE_CURRENT_LIST_DIR}/msk_iam_auth.cc)
# Consumer-group membership: co-located tasks, static membership ids, refused assignments.
target_sources(pinstream_connectors PRIVATE ${CMAKE_CURRENT_LIST_DIR}/kafka_membership.cc)
