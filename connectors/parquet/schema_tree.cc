#include "connectors/parquet/schema_tree.h"

namespace pinstream::connectors::parquet {

namespace {
enum : int32_t {
  kUtf8 = 0,
  kMapConverted = 1,
  kMapKeyValue = 2,
  kListConverted = 3,
  kTsMicros = 10
};

void collect(const Node& n, std::vector<std::string>& path, int def, int rep,
             std::vector<LeafSpec>& out) {
  path.push_back(n.name);
  if (n.repetition != Repetition::kRequired) ++def;
  if (n.repetition == Repetition::kRepeated) ++rep;
  if (n.is_leaf()) out.push_back(LeafSpec{path, n.physical, def, rep});
  for (const auto& c : n.children) collect(c, path, def, rep, out);
  path.pop_back();
}

void element(ThriftWriter& w, const Node& n) {
  w.list_struct_begin();
  if (n.is_leaf()) w.field_i32(1, static_cast<int32_t>(n.physical));
  w.field_i32(3, static_cast<int32_t>(n.repetition));
  w.field_binary(4, n.name);
  if (!n.is_leaf()) w.field_i32(5, static_cast<int32_t>(n.children.size()));
  int32_t converted = -1;
  int16_t logical = 0;  // LogicalType union member
  switch (n.logical) {
    case Logical::kString:
      converted = kUtf8;
      logical = 1;
      break;
    case Logical::kMap:
      converted = kMapConverted;
      logical = 2;
      break;
    case Logical::kList:
      converted = kListConverted;
      logical = 3;
      break;
    case Logical::kMapKeyValue:
      converted = kMapKeyValue;
      break;
    case Logical::kTimestampMicros:
      converted = kTsMicros;
      logical = 8;
      break;
    case Logical::kNone:
      break;
  }
  if (converted >= 0) w.field_i32(6, converted);
  if (logical != 0) {
    w.begin_struct(10);
    w.begin_struct(logical);
    if (n.logical == Logical::kTimestampMicros) {
      w.field_bool(1, true);  // isAdjustedToUTC
      w.begin_struct(2);      // unit: TimeUnit
      w.begin_struct(2);      // MICROS
      w.end_struct();
      w.end_struct();
    }
    w.end_struct();
    w.end_struct();
  }
  w.end_struct();
  for (const auto& c : n.children) element(w, c);
}

size_t count_nodes(const Node& n) {
  size_t k = 1;
  for (const auto& c : n.children) k += count_nodes(c);
  return k;
}
}  // namespace

Node Node::leaf(std::string n, Physical p, Logical l, Repetition r) {
  Node x;
  x.name = std::move(n);
  x.physical = p;
  x.logical = l;
  x.repetition = r;
  return x;
}
Node Node::group(std::string n, std::vector<Node> children, Repetition r) {
  Node x;
  x.name = std::move(n);
  x.children = std::move(children);
  x.repetition = r;
  return x;
}
Node Node::list(std::string n, Node element, Repetition r) {
  element.name = "element";
  Node g = group(std::move(n), {group("list", {std::move(element)}, Repetition::kRepeated)}, r);
  g.logical = Logical::kList;
  return g;
}
Node Node::map(std::string n, Node key, Node value, Repetition r) {
  key.name = "key";
  key.repetition = Repetition::kRequired;
  value.name = "value";
  Node kv = group("key_value", {std::move(key), std::move(value)}, Repetition::kRepeated);
  kv.logical = Logical::kMapKeyValue;
  Node g = group(std::move(n), {std::move(kv)}, r);
  g.logical = Logical::kMap;
  return g;
}

std::vector<LeafSpec> leaves_of(const std::vector<Node>& roots) {
  std::vector<LeafSpec> out;
  std::vector<std::string> path;
  for (const auto& n : roots) collect(n, path, 0, 0, out);
  return out;
}

void write_schema(ThriftWriter& w, const std::vector<Node>& roots) {
  size_t total = 1;
  for (const auto& n : roots) total += count_nodes(n);
  w.begin_list(2, ThriftWriter::kStruct, total);
  w.list_struct_begin();
  w.field_binary(4, "schema");
  w.field_i32(5, static_cast<int32_t>(roots.size()));
  w.end_struct();
  for (const auto& n : roots) element(w, n);
}

}  // namespace pinstream::connectors::parquet
