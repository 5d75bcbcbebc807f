// A test executable that links tests/support/counting_new.cc gets a global operator new
// that counts its calls (every non-aligned form replaced, so memory always goes back to the
// same allocator): hot-path tests assert that warmed-up code does not allocate. Not for
// sanitizer builds, which bring their own allocator.
#pragma once

namespace pinstream::testing {

// Calls of any replaced operator new so far, on every thread.
long allocations();

}  // namespace pinstream::testing
