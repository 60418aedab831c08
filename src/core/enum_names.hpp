// Enum <-> string tables. Every enum whose values cross a module edge as text (config values,
// results-file columns, printed reports) spells its names in exactly one EnumNames table, next
// to the enum; to_string and parse both read that table, so a name cannot drift between the
// writer and the reader, and an unknown string is rejected with the list of valid ones.
//
//   inline constexpr EnumNames<Verdict, 3> kVerdictNames{
//       "verdict", {{{Verdict::kHolds, "holds"}, {Verdict::kViolated, "violated"}, ...}}};
//   kVerdictNames.name(Verdict::kHolds)   -> "holds"
//   kVerdictNames.parse("holds")          -> Verdict::kHolds
//   kVerdictNames.parse("hold")           -> throws InvalidArgument
//                                            "unknown verdict 'hold'; valid values are: holds, ..."
#pragma once
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"

namespace dmconv {

template <class Enum, std::size_t N>
struct EnumNames {
  const char* what;  // what the values are, for error messages ("estimate status")
  std::array<std::pair<Enum, std::string_view>, N> entries;

  // The name of `value`; throws InvalidArgument for a value outside the table (a cast integer).
  std::string name(Enum value) const {
    for (const auto& [e, text] : entries)
      if (e == value) return std::string(text);
    throw InvalidArgument(std::string(what) + ": value " + std::to_string(static_cast<long long>(value)) +
                          " has no name");
  }

  std::optional<Enum> find(std::string_view text) const {
    for (const auto& [e, t] : entries)
      if (t == text) return e;
    return std::nullopt;
  }

  // "a, b, c": the valid names in table order.
  std::string valid() const {
    std::string out;
    for (const auto& [e, text] : entries) out += (out.empty() ? "" : ", ") + std::string(text);
    return out;
  }

  // The value named `text`; throws InvalidArgument naming the string and the valid names.
  Enum parse(std::string_view text) const {
    if (const std::optional<Enum> e = find(text)) return *e;
    throw InvalidArgument("unknown " + std::string(what) + " '" + std::string(text) + "'; valid values are: " + valid());
  }
};

}  // namespace dmconv
