#include "queue/seven_bit_conversion.hpp"

#include "mime/eightbit_downgrade.hpp"

namespace postamt::queue {

std::expected<std::string, std::string> convert_to_seven_bit(std::string_view content) {
  auto converted = mime::downgrade_to_7bit(content);
  if (!converted) return std::unexpected(converted.error().detail);
  return std::move(*converted);
}

}  // namespace postamt::queue
