// Message bytes (wire.hpp).
#include "parallel/wire.hpp"

#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <variant>

namespace dmconv::parallel {
namespace {

// The order of results::Column's alternatives, as sent.
enum ColumnType : std::int64_t { kDoubles = 0, kInts = 1, kStrings = 2 };

}  // namespace

void WireWriter::append(const void* data, std::size_t size) {
  const auto* first = static_cast<const std::byte*>(data);
  bytes_.insert(bytes_.end(), first, first + size);
}

void WireWriter::put(std::int64_t value) { append(&value, sizeof value); }
void WireWriter::put(double value) { append(&value, sizeof value); }
void WireWriter::put(const std::string& value) {
  put(static_cast<std::int64_t>(value.size()));
  append(value.data(), value.size());
}

void WireWriter::put(const results::ColumnTable& table) {
  put(table.name);
  put(static_cast<std::int64_t>(table.columns.size()));
  for (const auto& [name, column] : table.columns) {
    put(name);
    put(static_cast<std::int64_t>(column.index()));
    std::visit(
        [&](const auto& values) {
          put(static_cast<std::int64_t>(values.size()));
          using Value = typename std::decay_t<decltype(values)>::value_type;
          if constexpr (std::is_same_v<Value, std::string>) {
            for (const std::string& value : values) put(value);
          } else {
            append(values.data(), values.size() * sizeof(Value));
          }
        },
        column);
  }
}

void WireReader::take(void* data, std::size_t size, const char* what) {
  if (size > bytes_.size() - offset_)
    throw std::runtime_error("message between ranks ends early: " + std::string(what) + " needs " +
                             std::to_string(size) + " bytes at offset " + std::to_string(offset_) + " of " +
                             std::to_string(bytes_.size()));
  // An empty column's data() may be null, and memcpy's pointers must not be, even for 0 bytes.
  if (size == 0) return;
  std::memcpy(data, bytes_.data() + offset_, size);
  offset_ += size;
}

std::int64_t WireReader::get_int() {
  std::int64_t value = 0;
  take(&value, sizeof value, "an int64");
  return value;
}

double WireReader::get_double() {
  double value = 0.0;
  take(&value, sizeof value, "a double");
  return value;
}

std::size_t WireReader::get_count(std::size_t element_size, const char* what) {
  const std::int64_t count = get_int();
  if (count < 0 || static_cast<std::uint64_t>(count) > (bytes_.size() - offset_) / element_size)
    throw std::runtime_error("message between ranks: " + std::string(what) + " of length " + std::to_string(count) +
                             " does not fit in the " + std::to_string(bytes_.size() - offset_) + " bytes left");
  return static_cast<std::size_t>(count);
}

std::string WireReader::get_string() {
  std::string value(get_count(1, "a string"), '\0');
  take(value.data(), value.size(), "a string");
  return value;
}

results::ColumnTable WireReader::get_table() {
  results::ColumnTable table;
  table.name = get_string();
  const std::size_t columns = get_count(1, "a table's column list");
  for (std::size_t c = 0; c < columns; ++c) {
    std::string name = get_string();
    const std::int64_t type = get_int();
    switch (type) {
      case kDoubles: {
        std::vector<double> values(get_count(sizeof(double), "a float64 column"));
        take(values.data(), values.size() * sizeof(double), "a float64 column");
        table.columns.emplace_back(std::move(name), std::move(values));
        break;
      }
      case kInts: {
        std::vector<std::int64_t> values(get_count(sizeof(std::int64_t), "an int64 column"));
        take(values.data(), values.size() * sizeof(std::int64_t), "an int64 column");
        table.columns.emplace_back(std::move(name), std::move(values));
        break;
      }
      case kStrings: {
        std::vector<std::string> values(get_count(sizeof(std::int64_t), "a string column"));
        for (std::string& value : values) value = get_string();
        table.columns.emplace_back(std::move(name), std::move(values));
        break;
      }
      default:
        throw std::runtime_error("message between ranks: column '" + name + "' has type code " + std::to_string(type) +
                                 ", not 0 (float64), 1 (int64) or 2 (string)");
    }
  }
  return table;
}

}  // namespace dmconv::parallel
