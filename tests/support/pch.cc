// Gives the precompiled-header target (tests/CMakeLists.txt) a source file to compile.
