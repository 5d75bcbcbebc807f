// The schema tree of a Parquet file: nodes (groups and leaves, any nesting, as
// parquet.thrift's SchemaElement list describes it), the leaves with their maximum
// definition/repetition levels, and the SchemaElement list written into the footer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "connectors/parquet/thrift_compact.h"

namespace pinstream::connectors::parquet {

enum class Physical : int32_t { kBoolean = 0, kInt32 = 1, kInt64 = 2, kDouble = 5, kByteArray = 6 };
enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };
// Annotations we write: STRING, TIMESTAMP(MICROS, UTC), LIST, MAP and MAP's key_value group.
enum class Logical { kNone, kString, kTimestampMicros, kList, kMap, kMapKeyValue };

struct Node {
  std::string name;
  Repetition repetition = Repetition::kOptional;
  Physical physical = Physical::kByteArray;  // leaves only
  Logical logical = Logical::kNone;
  std::vector<Node> children;  // empty: a leaf
  bool is_leaf() const { return children.empty(); }

  static Node leaf(std::string n, Physical p, Logical l = Logical::kNone,
                   Repetition r = Repetition::kOptional);
  static Node group(std::string n, std::vector<Node> children,
                    Repetition r = Repetition::kOptional);
  // The 3-level LIST: <r> group name (LIST) { repeated group list { element } }.
  static Node list(std::string n, Node element, Repetition r = Repetition::kOptional);
  // MAP: <r> group name (MAP) { repeated group key_value { required key; value } }.
  static Node map(std::string n, Node key, Node value, Repetition r = Repetition::kOptional);
};

struct LeafSpec {
  std::vector<std::string> path;
  Physical physical = Physical::kByteArray;
  int max_def = 0, max_rep = 0;
};

// Depth-first leaves of `roots` with their paths and maximum levels.
std::vector<LeafSpec> leaves_of(const std::vector<Node>& roots);
// Appends the SchemaElement list (root "schema" first) as FileMetaData field 2.
void write_schema(ThriftWriter& w, const std::vector<Node>& roots);

}  // namespace pinstream::connectors::parquet
