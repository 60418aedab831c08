// Messages between ranks (parallel/wire.hpp): a column table arrives bit for bit -- NaN payloads,
// -0.0, denormals, empty and non-ASCII strings, empty columns -- and a damaged message is refused
// with a reason, never read past its end.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "parallel/wire.hpp"

namespace dmconv::parallel {
namespace {

results::ColumnTable awkward_table() {
  results::ColumnTable table;
  table.name = "runs";
  table.columns.emplace_back("value", std::vector<double>{std::bit_cast<double>(std::uint64_t{0x7ff8dead00000001}), -0.0,
                                                          std::numeric_limits<double>::denorm_min(),
                                                          -std::numeric_limits<double>::infinity()});
  table.columns.emplace_back("steps", std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(), -1, 0, 64});
  table.columns.emplace_back("sampler", std::vector<std::string>{"", "ddim", "x\xc3\xa9y", std::string(1000, 'a')});
  table.columns.emplace_back("empty", std::vector<double>{});
  return table;
}

std::vector<std::uint64_t> bits(const std::vector<double>& values) {
  std::vector<std::uint64_t> out;
  for (double v : values) out.push_back(std::bit_cast<std::uint64_t>(v));
  return out;
}

TEST(Wire, ColumnTableArrivesBitForBit) {
  const results::ColumnTable sent = awkward_table();
  WireWriter writer;
  writer.put(std::int64_t{42});
  writer.put(sent);
  writer.put(std::string("after"));
  const std::vector<std::byte> bytes = writer.take();
  WireReader reader(bytes);
  EXPECT_EQ(reader.get_int(), 42);
  const results::ColumnTable received = reader.get_table();
  EXPECT_EQ(reader.get_string(), "after");
  EXPECT_TRUE(reader.at_end());
  EXPECT_EQ(received.name, sent.name);
  ASSERT_EQ(received.columns.size(), sent.columns.size());
  for (std::size_t c = 0; c < sent.columns.size(); ++c) {
    EXPECT_EQ(received.columns[c].first, sent.columns[c].first);
    EXPECT_EQ(received.columns[c].second.index(), sent.columns[c].second.index());
  }
  EXPECT_EQ(bits(received.doubles("value")), bits(sent.doubles("value")));
  EXPECT_EQ(received.ints("steps"), sent.ints("steps"));
  EXPECT_EQ(received.strings("sampler"), sent.strings("sampler"));
  EXPECT_TRUE(received.doubles("empty").empty());
}

TEST(Wire, EveryTruncationIsRefusedWithAReason) {
  WireWriter writer;
  writer.put(awkward_table());
  const std::vector<std::byte> bytes = writer.take();
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    const std::vector<std::byte> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
    WireReader reader(cut);
    try {
      reader.get_table();
      ADD_FAILURE() << "a message cut to " << length << " of " << bytes.size() << " bytes was read";
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find("message between ranks"), std::string::npos) << error.what();
    }
  }
}

TEST(Wire, UnknownColumnTypeIsRefused) {
  WireWriter writer;
  writer.put(std::string("runs"));
  writer.put(std::int64_t{1});
  writer.put(std::string("value"));
  writer.put(std::int64_t{7});
  writer.put(std::int64_t{0});
  const std::vector<std::byte> bytes = writer.take();
  WireReader reader(bytes);
  try {
    reader.get_table();
    ADD_FAILURE() << "type code 7 was accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("column 'value' has type code 7"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace dmconv::parallel
