#include "mailauth/domain_a_labels.hpp"

#include <idn2.h>

#include <algorithm>
#include <cstdlib>

namespace postamt::mailauth {

std::optional<std::string> to_a_labels(std::string_view domain) {
  const bool ascii = std::all_of(domain.begin(), domain.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    std::string out(domain);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  if (domain.find('\0') != std::string_view::npos) return std::nullopt;
  const std::string input(domain);
  char* output = nullptr;
  const int rc = idn2_to_ascii_8z(input.c_str(), &output, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK || !output) {
    idn2_free(output);
    return std::nullopt;
  }
  std::string result(output);
  idn2_free(output);
  return result;
}

}  // namespace postamt::mailauth
