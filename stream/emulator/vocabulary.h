// Word lists the emulator's generator draws from (see vocabulary.cc for where they come from).
// Each list is a static array of NUL-terminated UTF-8 strings; never empty.
#pragma once

#include <cstddef>

namespace pinstream::runtime::emulator::vocab {

struct List {
  const char* const* items;
  size_t size;
  const char* operator[](size_t i) const { return items[i]; }
};

List categories();               // the 13 categories, alphabetical
List subjects(size_t category);  // title subjects of categories()[category]
List adjectives();
List tails();
List sentences();
List countries();  // 241 names as in geo.jsonl
List posters();    // frequent poster names, most frequent first
List first_names();
List last_names();

}  // namespace pinstream::runtime::emulator::vocab
