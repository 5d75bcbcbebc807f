#include "connectors/aws/xml.h"

#include <cstdlib>

namespace pinstream::connectors::aws {
namespace {

// Position just past "<tag" when followed by '>', '/', or whitespace (so <Key> does not
// match <KeyCount>); npos when absent.
size_t find_open(std::string_view doc, std::string_view tag, size_t from) {
  while (true) {
    size_t at = doc.find('<', from);
    if (at == std::string_view::npos) return at;
    size_t name = at + 1;
    if (doc.substr(name, tag.size()) == tag && name + tag.size() < doc.size()) {
      char next = doc[name + tag.size()];
      if (next == '>' || next == '/' || next == ' ' || next == '\t' || next == '\n' ||
          next == '\r') {
        return name + tag.size();
      }
    }
    from = at + 1;
  }
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::vector<std::string_view> xml_elements(std::string_view doc, std::string_view tag) {
  std::vector<std::string_view> out;
  size_t from = 0;
  while (true) {
    size_t after = find_open(doc, tag, from);
    if (after == std::string_view::npos) return out;
    size_t gt = doc.find('>', after);
    if (gt == std::string_view::npos) return out;
    if (doc[gt - 1] == '/') {  // <tag/>
      out.emplace_back();
      from = gt + 1;
      continue;
    }
    std::string close = "</" + std::string(tag) + ">";
    size_t end = doc.find(close, gt + 1);
    if (end == std::string_view::npos) return out;
    out.push_back(doc.substr(gt + 1, end - gt - 1));
    from = end + close.size();
  }
}

std::string xml_text(std::string_view doc, std::string_view tag) {
  auto all = xml_elements(doc, tag);
  return all.empty() ? std::string() : xml_unescape(all.front());
}

std::string xml_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out.append(s.substr(i));
      break;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp")
      out.push_back('&');
    else if (ent == "lt")
      out.push_back('<');
    else if (ent == "gt")
      out.push_back('>');
    else if (ent == "quot")
      out.push_back('"');
    else if (ent == "apos")
      out.push_back('\'');
    else if (!ent.empty() && ent[0] == '#') {
      std::string num(ent.substr(1));
      bool hexa = !num.empty() && (num[0] == 'x' || num[0] == 'X');
      append_utf8(out, std::strtoul(num.c_str() + (hexa ? 1 : 0), nullptr, hexa ? 16 : 10));
    } else {
      out.append(s.substr(i, semi - i + 1));  // unknown entity: kept as is
    }
    i = semi;
  }
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace pinstream::connectors::aws
