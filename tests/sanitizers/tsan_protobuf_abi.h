//===- tests/sanitizers/tsan_protobuf_abi.h - protobuf's layout under the tsan preset ---===//
//
// Forced (-include) into every file that uses protobuf in the tsan preset
// (CMakeLists.txt). Debian's libprotobuf is built without ThreadSanitizer,
// but protobuf 3.21's map_field.h gives MapFieldBase two more members when
// the file including it is compiled with it (__SANITIZE_THREAD__): such
// code then disagrees with the library on the layout of every map field,
// and parsing one (a config.pbtxt's `parameters`) crashed in
// RepeatedPtrFieldBase::Clear. Reading map_field.h first with the macro
// hidden gives it the library's layout; the rest of the file still sees
// ThreadSanitizer (libstdc++ reads the macro once, in <bits/c++config.h>,
// included before it is hidden).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>

#pragma push_macro("__SANITIZE_THREAD__")
#undef __SANITIZE_THREAD__
#include <google/protobuf/map_field.h>
#pragma pop_macro("__SANITIZE_THREAD__")
