#pragma once
#include <filesystem>
#include <string_view>
#include <sys/types.h>

#include "base/result.hpp"

namespace postamt {

// Writes a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs
// the directory, so readers see the old content or the new, never a torn file.
// Parent directories are created.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content,
                                   mode_t mode = 0644);

}  // namespace postamt
