// The bytes of a message between ranks (communicator.hpp): integers, doubles and strings in the
// machine's byte order (every rank of a job runs the same build), and column tables
// (results/results_file.hpp) column by column. Doubles are copied as bits, so NaN payloads, -0.0
// and denormals arrive unchanged: a row computed on rank 2 is written by rank 0 exactly as if
// rank 0 had computed it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "results/results_file.hpp"

namespace dmconv::parallel {

class WireWriter {
 public:
  void put(std::int64_t value);
  void put(double value);
  void put(const std::string& value);
  void put(const results::ColumnTable& table);
  std::vector<std::byte> take() { return std::move(bytes_); }

 private:
  void append(const void* data, std::size_t size);
  std::vector<std::byte> bytes_;
};

// Reads what a WireWriter wrote, in the same order. A message that ends early or holds a
// column type or length that cannot be is refused with std::runtime_error naming what was read.
class WireReader {
 public:
  explicit WireReader(const std::vector<std::byte>& bytes) : bytes_(bytes) {}
  std::int64_t get_int();
  double get_double();
  std::string get_string();
  results::ColumnTable get_table();
  bool at_end() const { return offset_ == bytes_.size(); }

 private:
  void take(void* data, std::size_t size, const char* what);
  std::size_t get_count(std::size_t element_size, const char* what);
  const std::vector<std::byte>& bytes_;
  std::size_t offset_ = 0;
};

}  // namespace dmconv::parallel
