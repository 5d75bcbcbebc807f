// Just enough XML for the AWS REST answers we read (S3 listings and errors, STS
// credentials): the inner text of elements found by tag name, entity decoding, and
// escaping for the small bodies we send. No DTDs, namespaces are ignored (tags match by
// local name), CDATA is not expected in these answers. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pinstream::connectors::aws {

// The raw inner text of every <tag ...>...</tag> (or <tag/>, as empty) in document order.
// Elements of the same tag must not nest (true of every AWS answer we parse).
std::vector<std::string_view> xml_elements(std::string_view doc, std::string_view tag);

// The decoded text of the first <tag>; empty when there is none.
std::string xml_text(std::string_view doc, std::string_view tag);

// Decodes &amp; &lt; &gt; &quot; &apos; and numeric references (&#NN; &#xNN;).
std::string xml_unescape(std::string_view s);
std::string xml_escape(std::string_view s);

}  // namespace pinstream::connectors::aws
