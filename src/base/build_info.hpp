#pragma once
// What this binary is: the project version (CMakeLists.txt) and the git commit it was
// built from ("…-dirty" with uncommitted changes, "unknown" outside git). Defined in a
// file generated at build time (cmake/build_info.cmake).
#include <string_view>

namespace postamt::build_info {

std::string_view version();
std::string_view commit();

}  // namespace postamt::build_info
