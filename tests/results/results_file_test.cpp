// Tests of the results-file module (results/results_file.hpp, layout in results/README.md):
// every value round-trips exactly (doubles bit for bit), order is preserved, writes are
// atomic (a failure never leaves a temporary file or touches an existing file), and every
// failure throws InvalidArgument naming the path, with HDF5's own error printing silenced.
// ResultsFileH5py.WritesFixtureForPython also writes the file that
// tests/results/read_with_h5py.py checks with h5py + numpy (ctest results_file.h5py_reader).
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "results/results_file.hpp"

namespace dmconv::results {
namespace {

namespace fs = std::filesystem;
using Int = std::int64_t;
using Doubles = std::vector<double>;
using Ints = std::vector<Int>;
using Strings = std::vector<std::string>;

constexpr Int kIntMin = std::numeric_limits<Int>::min();
constexpr Int kIntMax = std::numeric_limits<Int>::max();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Returns the InvalidArgument message of `statement`, or fails the test.
template <class Statement>
std::string InvalidMessage(Statement&& statement) {
  try {
    statement();
  } catch (const InvalidArgument& error) {
    return error.what();
  } catch (const std::exception& error) {
    ADD_FAILURE() << "threw a different exception: " << error.what();
    return {};
  }
  ADD_FAILURE() << "did not throw";
  return {};
}

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("dmconv-results-" + std::string(info->test_suite_name()) + "-" +
                                         info->name() + "-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  // Names of the entries of the directory, sorted.
  Strings listing() const {
    Strings names;
    for (const auto& entry : fs::directory_iterator(path_)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path path_;
};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::uint64_t Bits(double x) { return std::bit_cast<std::uint64_t>(x); }

// Awkward doubles: NaNs with payloads and sign (a signalling one too), infinities, signed
// zeros, denormals, extremes.
Doubles AwkwardDoubles() {
  return {0.0,
          -0.0,
          std::numeric_limits<double>::quiet_NaN(),
          std::bit_cast<double>(std::uint64_t{0xfff8000000000000}),  // -NaN
          std::bit_cast<double>(std::uint64_t{0x7ff8dead0000beef}),  // NaN with payload
          std::bit_cast<double>(std::uint64_t{0x7ff0000000000001}),  // signalling NaN
          kInf,
          -kInf,
          std::numeric_limits<double>::denorm_min(),
          -std::numeric_limits<double>::denorm_min(),
          std::bit_cast<double>(std::uint64_t{0x000fffffffffffff}),  // largest denormal
          std::numeric_limits<double>::min(),
          std::numeric_limits<double>::max(),
          std::numeric_limits<double>::lowest(),
          std::numeric_limits<double>::epsilon(),
          0.1,
          -1.0 / 3.0};
}

Ints AwkwardInts() { return {0, -1, 1, kIntMin, kIntMax, kIntMin + 1, kIntMax - 1, Int{1} << 53, (Int{1} << 53) + 1}; }

Strings AwkwardStrings() {
  return {"",
          "ddpm",
          "§6.3 – α",
          "emoji \xF0\x9F\x98\x80 and CJK \xE4\xB8\xAD",
          "line\nbreak\ttab \"quotes\" 'single' \\backslash",
          "   ",
          std::string(1 << 20, 'x') + "end",  // 1 MiB
          "schedule.c1=0.5;sampler=ddpm",
          "\x7F control \x01 bytes",
          "",
          "last"};
}

// Same names, order, types and values; doubles compared bit for bit.
void ExpectSameColumn(const Column& expected, const Column& actual, const std::string& where) {
  ASSERT_EQ(expected.index(), actual.index()) << where << ": " << type_name(expected) << " vs " << type_name(actual);
  if (const auto* reals = std::get_if<Doubles>(&expected)) {
    const auto& got = std::get<Doubles>(actual);
    ASSERT_EQ(reals->size(), got.size()) << where;
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_EQ(Bits((*reals)[i]), Bits(got[i])) << where << " row " << i << ": " << (*reals)[i] << " vs " << got[i];
  } else if (const auto* integers = std::get_if<Ints>(&expected)) {
    EXPECT_EQ(*integers, std::get<Ints>(actual)) << where;
  } else {
    const auto& texts = std::get<Strings>(expected);
    const auto& got = std::get<Strings>(actual);
    ASSERT_EQ(texts.size(), got.size()) << where;
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_TRUE(texts[i] == got[i]) << where << " row " << i << " (lengths " << texts[i].size() << ", "
                                      << got[i].size() << ")";
  }
}

void ExpectSameFile(const ResultsFile& expected, const ResultsFile& actual) {
  ASSERT_EQ(expected.attributes.size(), actual.attributes.size());
  for (std::size_t i = 0; i < expected.attributes.size(); ++i) {
    const auto& [name, value] = expected.attributes[i];
    EXPECT_EQ(name, actual.attributes[i].first) << "attribute " << i;
    ASSERT_EQ(value.index(), actual.attributes[i].second.index()) << "attribute " << name;
    if (const auto* real = std::get_if<double>(&value))
      EXPECT_EQ(Bits(*real), Bits(std::get<double>(actual.attributes[i].second))) << "attribute " << name;
    else
      EXPECT_TRUE(value == actual.attributes[i].second) << "attribute " << name;
  }
  ASSERT_EQ(expected.tables.size(), actual.tables.size());
  for (std::size_t t = 0; t < expected.tables.size(); ++t) {
    const auto& [table_name, table] = expected.tables[t];
    const auto& got = actual.tables[t].second;
    EXPECT_EQ(table_name, actual.tables[t].first) << "table " << t;
    EXPECT_EQ(table_name, got.name) << "the reader names the table";
    ASSERT_EQ(table.columns.size(), got.columns.size()) << "table " << table_name;
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      EXPECT_EQ(table.columns[c].first, got.columns[c].first) << "table " << table_name << " column " << c;
      ExpectSameColumn(table.columns[c].second, got.columns[c].second,
                       table_name + "/" + table.columns[c].first);
    }
  }
}

ResultsFile RoundTrip(const TempDir& dir, const ResultsFile& file) {
  const fs::path path = dir / "roundtrip.h5";
  write_results_file(path, file);
  EXPECT_EQ(dir.listing(), Strings{"roundtrip.h5"}) << "no temporary file is left behind";
  return read_results_file(path);
}

// A small valid file (names deliberately out of alphabetical order).
ResultsFile Small() {
  ResultsFile file;
  file.attributes = {{"schema_version", Int{1}}, {"command_line", std::string("dmconv run x.toml")}};
  ColumnTable runs;
  runs.columns = {{"run_index", Ints{0, 1, 2}}, {"value", Doubles{0.5, 0.25, 0.125}},
                  {"sampler", Strings{"ddpm", "ddim", "ddpm"}}};
  ColumnTable fits;
  fits.columns = {{"slope", Doubles{-1.0}}};
  file.tables = {{"runs", runs}, {"fits", fits}};
  return file;
}

// ---------------------------------------------------------------------------------------------
// ColumnTable and ResultsFile accessors

TEST(ColumnTable, RowsIsZeroWithoutColumnsAndThrowsWhenRagged) {
  ColumnTable table;
  EXPECT_EQ(table.rows(), 0u);
  table.columns = {{"a", Doubles{1, 2, 3}}, {"b", Ints{4, 5, 6}}, {"c", Strings{"x", "y", "z"}}};
  EXPECT_EQ(table.rows(), 3u);
  table.columns.emplace_back("ragged", Ints{1, 2});
  table.name = "runs";
  const std::string message = InvalidMessage([&] { (void)table.rows(); });
  EXPECT_NE(message.find("table 'runs'"), std::string::npos) << message;
  EXPECT_NE(message.find("'ragged' has 2 rows"), std::string::npos) << message;
  EXPECT_NE(message.find("'a' has 3"), std::string::npos) << message;
}

TEST(ColumnTable, TypedAccessorsNameTableAndColumn) {
  ColumnTable table;
  table.name = "runs";
  table.columns = {{"value", Doubles{1.5}}, {"seed", Ints{7}}, {"sampler", Strings{"ddpm"}}};
  EXPECT_EQ(table.doubles("value"), Doubles{1.5});
  EXPECT_EQ(table.ints("seed"), Ints{7});
  EXPECT_EQ(table.strings("sampler"), Strings{"ddpm"});
  EXPECT_EQ(table.find("seed"), &table.columns[1].second);
  EXPECT_EQ(table.find("missing"), nullptr);

  std::string message = InvalidMessage([&] { (void)table.doubles("valeu"); });
  EXPECT_NE(message.find("table 'runs'"), std::string::npos) << message;
  EXPECT_NE(message.find("no column 'valeu'"), std::string::npos) << message;
  EXPECT_NE(message.find("value, seed, sampler"), std::string::npos) << message;

  message = InvalidMessage([&] { (void)table.doubles("seed"); });
  EXPECT_NE(message.find("table 'runs': column 'seed' holds int64, not float64"), std::string::npos) << message;
  message = InvalidMessage([&] { (void)table.ints("sampler"); });
  EXPECT_NE(message.find("column 'sampler' holds string, not int64"), std::string::npos) << message;
  message = InvalidMessage([&] { (void)table.strings("value"); });
  EXPECT_NE(message.find("column 'value' holds float64, not string"), std::string::npos) << message;
}

TEST(ResultsFile, LookupsReturnNullWhenAbsent) {
  const ResultsFile file = Small();
  ASSERT_NE(file.table("fits"), nullptr);
  EXPECT_EQ(file.table("fits"), &file.tables[1].second);
  EXPECT_EQ(file.table("nope"), nullptr);
  ASSERT_NE(file.attribute("schema_version"), nullptr);
  EXPECT_EQ(std::get<Int>(*file.attribute("schema_version")), 1);
  EXPECT_EQ(file.attribute("nope"), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(ResultsFileRoundTrip, AllColumnTypesWithAwkwardValues) {
  const TempDir dir;
  ResultsFile file;
  ColumnTable doubles, ints, strings, mixed;
  doubles.columns = {{"values", AwkwardDoubles()}};
  ints.columns = {{"values", AwkwardInts()}};
  strings.columns = {{"values", AwkwardStrings()}};
  mixed.columns = {{"value", Doubles{1.0, kInf, -0.0}}, {"seed", Ints{kIntMin, 0, kIntMax}},
                   {"message", Strings{"", "§6.3 – α", std::string(100000, 'y')}}};
  file.tables = {{"doubles", doubles}, {"ints", ints}, {"strings", strings}, {"mixed", mixed}};
  ExpectSameFile(file, RoundTrip(dir, file));
}

TEST(ResultsFileRoundTrip, EmptyTablesKeepTheirColumnsAndTypes) {
  const TempDir dir;
  ResultsFile file;
  ColumnTable empty, none;
  empty.columns = {{"value", Doubles{}}, {"seed", Ints{}}, {"sampler", Strings{}}};
  file.tables = {{"runs", empty}, {"fits", none}};
  const ResultsFile read = RoundTrip(dir, file);
  ExpectSameFile(file, read);
  EXPECT_EQ(read.table("runs")->rows(), 0u);
  EXPECT_TRUE(read.table("fits")->columns.empty());
}

TEST(ResultsFileRoundTrip, EmptyFile) {
  const TempDir dir;
  const ResultsFile read = RoundTrip(dir, ResultsFile{});
  EXPECT_TRUE(read.attributes.empty());
  EXPECT_TRUE(read.tables.empty());
}

TEST(ResultsFileRoundTrip, AttributesOfAllTypes) {
  const TempDir dir;
  ResultsFile file;
  file.attributes = {{"schema_version", Int{1}},
                     {"min", kIntMin},
                     {"max", kIntMax},
                     {"tolerance", 0.25},
                     {"negative_zero", -0.0},
                     {"nan", std::bit_cast<double>(std::uint64_t{0x7ff8dead0000beef})},
                     {"inf", -kInf},
                     {"denormal", std::numeric_limits<double>::denorm_min()},
                     {"empty", std::string()},
                     {"unicode", std::string("§6.3 – α")},
                     {"config_text", std::string("[run]\nsteps = [64, 128]\n# \xE2\x80\x94 long\n") +
                                         std::string(1 << 20, '#')}};
  const ResultsFile read = RoundTrip(dir, file);
  ExpectSameFile(file, read);
  EXPECT_EQ(std::get<std::string>(*read.attribute("unicode")), "§6.3 – α");
}

TEST(ResultsFileRoundTrip, OrderOfTablesColumnsAndAttributesIsPreserved) {
  const TempDir dir;
  ResultsFile file;
  // Neither alphabetical nor reverse alphabetical, and more than HDF5's compact-storage
  // limit of 8 links / attributes, so the dense (indexed) storage is exercised as well.
  const Strings names = {"zeta", "alpha", "schedule.c1", "mid", "b", "α", "a b", "y", "c", "x", "d", "w"};
  ColumnTable table;
  for (std::size_t i = 0; i < names.size(); ++i) {
    file.attributes.emplace_back(names[i], static_cast<Int>(i));
    table.columns.emplace_back(names[i], Ints{static_cast<Int>(i)});
  }
  for (const auto& name : names) file.tables.emplace_back(name, table);
  const ResultsFile read = RoundTrip(dir, file);
  ExpectSameFile(file, read);
}

TEST(ResultsFileRoundTrip, OverwritesAnExistingFile) {
  const TempDir dir;
  const fs::path path = dir / "out.h5";
  write_results_file(path, Small());
  ResultsFile second;
  second.attributes = {{"schema_version", Int{2}}};
  write_results_file(path, second);
  ExpectSameFile(second, read_results_file(path));
  EXPECT_EQ(dir.listing(), Strings{"out.h5"});
}

TEST(ResultsFileRoundTrip, RelativePath) {
  const TempDir dir;
  const fs::path previous = fs::current_path();
  fs::current_path(dir.path());
  try {
    write_results_file("relative.h5", Small());
    ExpectSameFile(Small(), read_results_file("relative.h5"));
  } catch (...) {
    fs::current_path(previous);
    throw;
  }
  fs::current_path(previous);
  EXPECT_EQ(dir.listing(), Strings{"relative.h5"});
}

// Threads write their own files and, concurrently, the same file (whose temporary name is
// per process, so writes of one path must not overlap).
TEST(ResultsFileRoundTrip, ConcurrentWritersAndReaders) {
  const TempDir dir;
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      ResultsFile file = Small();
      file.attributes.emplace_back("thread", Int{t});
      const fs::path own = dir / ("thread" + std::to_string(t) + ".h5");
      const fs::path shared = dir / "shared.h5";
      for (int repeat = 0; repeat < 5; ++repeat) {
        try {
          write_results_file(own, file);
          write_results_file(shared, file);
          const ResultsFile read = read_results_file(own);
          const Attribute* thread = read.attribute("thread");
          if (thread == nullptr || *thread != Attribute{Int{t}} || read.table("runs") == nullptr) ++failures[t];
          const ResultsFile read_shared = read_results_file(shared);
          if (read_shared.table("runs") == nullptr || read_shared.table("runs")->rows() != 3) ++failures[t];
        } catch (const std::exception&) {
          ++failures[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(dir.listing(), (Strings{"shared.h5", "thread0.h5", "thread1.h5", "thread2.h5", "thread3.h5"}));
}

// ---------------------------------------------------------------------------------------------
// Atomicity and failures while writing

TEST(ResultsFileWrite, MissingDirectoryThrowsAndCreatesNothing) {
  const TempDir dir;
  const fs::path path = dir / "missing" / "out.h5";
  const std::string message = InvalidMessage([&] { write_results_file(path, Small()); });
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir / "missing"));
  EXPECT_TRUE(dir.listing().empty());
}

TEST(ResultsFileWrite, RaggedTableLeavesExistingFileByteIdentical) {
  const TempDir dir;
  const fs::path path = dir / "out.h5";
  write_results_file(path, Small());
  const std::string before = Slurp(path);
  ASSERT_FALSE(before.empty());
  ResultsFile ragged = Small();
  ragged.tables[0].second.columns.emplace_back("short", Doubles{1.0});
  const std::string message = InvalidMessage([&] { write_results_file(path, ragged); });
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("table 'runs': column 'short' has 1 rows but column 'run_index' has 3"), std::string::npos)
      << message;
  EXPECT_TRUE(Slurp(path) == before) << "the existing file changed";
  EXPECT_EQ(dir.listing(), Strings{"out.h5"});
}

// The rename is the last step: its failure must remove the complete temporary file.
TEST(ResultsFileWrite, FailedRenameRemovesTheTemporaryFile) {
  const TempDir dir;
  const fs::path path = dir / "occupied";
  fs::create_directory(path);
  WriteText(path / "keep.txt", "keep");
  const std::string message = InvalidMessage([&] { write_results_file(path, Small()); });
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("cannot rename"), std::string::npos) << message;
  EXPECT_EQ(dir.listing(), Strings{"occupied"});
  EXPECT_EQ(Slurp(path / "keep.txt"), "keep");
}

// A temporary path that is not a regular file is not ours: it is neither used nor removed.
TEST(ResultsFileWrite, TemporaryPathOccupiedByADirectoryIsLeftAlone) {
  const TempDir dir;
  const fs::path path = dir / "out.h5";
  const std::string temporary = "out.h5.tmp-" + std::to_string(::getpid());
  fs::create_directory(dir / temporary);
  const std::string message = InvalidMessage([&] { write_results_file(path, Small()); });
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("is not a regular file"), std::string::npos) << message;
  EXPECT_EQ(dir.listing(), Strings{temporary});
}

TEST(ResultsFileWrite, InvalidNamesAndStringsAreRejectedBeforeTouchingTheDisk) {
  struct Case {
    std::string expected;  // part of the message
    std::function<void(ResultsFile&)> spoil;
  };
  const std::vector<Case> cases = {
      {"table name is empty", [](ResultsFile& f) { f.tables[0].first = ""; }},
      {"table name 'a/b' must not be '.' or contain '/'", [](ResultsFile& f) { f.tables[0].first = "a/b"; }},
      {"table name '.' must not", [](ResultsFile& f) { f.tables[0].first = "."; }},
      {"table name 'runs' is used twice", [](ResultsFile& f) { f.tables[1].first = "runs"; }},
      {"table 'runs': column name 'value' is used twice",
       [](ResultsFile& f) { f.tables[0].second.columns[0].first = "value"; }},
      {"table 'runs': column name is empty", [](ResultsFile& f) { f.tables[0].second.columns[2].first = ""; }},
      {"root attribute name 'schema_version' is used twice",
       [](ResultsFile& f) { f.attributes[1].first = "schema_version"; }},
      {"root attribute name 'a\xff' is not valid UTF-8", [](ResultsFile& f) { f.attributes[0].first = "a\xff"; }},
      {"root attribute 'command_line' contains a NUL byte",
       [](ResultsFile& f) { f.attributes[1].second = std::string("a\0b", 3); }},
      {"table 'runs': column 'sampler', row 1, is not valid UTF-8",
       [](ResultsFile& f) { std::get<Strings>(f.tables[0].second.columns[2].second)[1] = "\xc0\xaf"; }},  // overlong
      {"row 2, is not valid UTF-8",
       [](ResultsFile& f) { std::get<Strings>(f.tables[0].second.columns[2].second)[2] = "\xed\xa0\x80"; }},  // surrogate
      {"row 0, is not valid UTF-8",
       [](ResultsFile& f) { std::get<Strings>(f.tables[0].second.columns[2].second)[0] = "ok \xe2\x82"; }},  // truncated
      {"row 0, contains a NUL byte",
       [](ResultsFile& f) { std::get<Strings>(f.tables[0].second.columns[2].second)[0] = std::string(1, '\0'); }},
  };
  const TempDir dir;
  const fs::path path = dir / "out.h5";
  for (const auto& c : cases) {
    ResultsFile file = Small();
    c.spoil(file);
    const std::string message = InvalidMessage([&] { write_results_file(path, file); });
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << "expected '" << c.expected << "' in: " << message;
    EXPECT_TRUE(dir.listing().empty()) << c.expected;
  }
}

// ---------------------------------------------------------------------------------------------
// Failures while reading

TEST(ResultsFileRead, MissingFileThrowsNamingThePath) {
  const TempDir dir;
  const fs::path path = dir / "absent.h5";
  const std::string message = InvalidMessage([&] { (void)read_results_file(path); });
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("no such file"), std::string::npos) << message;
}

TEST(ResultsFileRead, NonHdf5FilesThrowNamingThePath) {
  const TempDir dir;
  for (const std::string& text : {std::string("schema_version = 1\n"), std::string(), std::string(4096, '\0')}) {
    const fs::path path = dir / "results.h5";
    WriteText(path, text);
    const std::string message = InvalidMessage([&] { (void)read_results_file(path); });
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find("not an HDF5 file"), std::string::npos) << message;
  }
  const std::string message = InvalidMessage([&] { (void)read_results_file(dir.path()); });
  EXPECT_NE(message.find(dir.path().string()), std::string::npos) << message;
  EXPECT_NE(message.find("not a regular file"), std::string::npos) << message;
}

// A truncated file passes the signature check and fails inside HDF5: the failure comes back
// as the exception only (nothing printed), and the caller's error handler is restored.
TEST(ResultsFileRead, TruncatedFileThrowsWithoutPrintingTheHdf5Stack) {
  const TempDir dir;
  const fs::path path = dir / "truncated.h5";
  write_results_file(path, Small());
  fs::resize_file(path, fs::file_size(path) / 2);
  H5E_auto2_t before_function = nullptr;
  void* before_data = nullptr;
  ASSERT_GE(H5Eget_auto2(H5E_DEFAULT, &before_function, &before_data), 0);
  ASSERT_NE(before_function, nullptr) << "HDF5 prints errors by default";
  testing::internal::CaptureStderr();
  const std::string message = InvalidMessage([&] { (void)read_results_file(path); });
  const std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_EQ(printed, "");
  H5E_auto2_t after_function = nullptr;
  void* after_data = nullptr;
  ASSERT_GE(H5Eget_auto2(H5E_DEFAULT, &after_function, &after_data), 0);
  EXPECT_EQ(after_function, before_function);
  EXPECT_EQ(after_data, before_data);
}

// HDF5 files with another layout: each case edits a valid file with the HDF5 C API.
struct Hdf5Edit {
  std::string expected;  // part of the message
  std::function<void(hid_t)> edit;
};

hid_t Check(hid_t id) {
  EXPECT_GE(id, 0) << "HDF5 call in the test failed";
  return id;
}

void AddDataset(hid_t location, const char* name, hid_t type, std::vector<hsize_t> dims) {
  const hid_t space = Check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  const hid_t dataset = Check(H5Dcreate2(location, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Dclose(dataset);
  H5Sclose(space);
}

void AddScalarAttribute(hid_t location, const char* name, hid_t type, const void* value) {
  const hid_t space = Check(H5Screate(H5S_SCALAR));
  const hid_t attribute = Check(H5Acreate2(location, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  Check(H5Awrite(attribute, type, value));
  H5Aclose(attribute);
  H5Sclose(space);
}

TEST(ResultsFileRead, FilesNotInTheLayoutThrowNamingThePathAndTheProblem) {
  const std::vector<Hdf5Edit> edits = {
      {"'/stray' is not a group", [](hid_t f) { AddDataset(f, "stray", H5T_NATIVE_DOUBLE, {3}); }},
      {"table 'runs' has no attribute 'column_order'", [](hid_t f) { H5Adelete_by_name(f, "runs", "column_order", H5P_DEFAULT); }},
      {"table 'runs' has no attribute 'rows'", [](hid_t f) { H5Adelete_by_name(f, "runs", "rows", H5P_DEFAULT); }},
      {"table 'fits' has an unexpected attribute 'note'",
       [](hid_t f) {
         const hid_t g = H5Gopen2(f, "fits", H5P_DEFAULT);
         const double x = 1.0;
         AddScalarAttribute(g, "note", H5T_NATIVE_DOUBLE, &x);
         H5Gclose(g);
       }},
      {"table 'runs': 'extra' is not listed in 'column_order'",
       [](hid_t f) {
         const hid_t g = H5Gopen2(f, "runs", H5P_DEFAULT);
         AddDataset(g, "extra", H5T_NATIVE_DOUBLE, {3});
         H5Gclose(g);
       }},
      {"table 'runs': 'column_order' lists 'value' but the group has no such dataset",
       [](hid_t f) { H5Ldelete(f, "runs/value", H5P_DEFAULT); }},
      {"table 'fits': column 'slope' has 1 rows but the table has rows = 2",
       [](hid_t f) {
         const Int two = 2;
         const hid_t g = H5Gopen2(f, "fits", H5P_DEFAULT);
         H5Adelete(g, "rows");
         AddScalarAttribute(g, "rows", H5T_STD_I64LE, &two);
         H5Gclose(g);
       }},
      {"table 'fits': column 'slope' has type 4-byte float",
       [](hid_t f) {
         H5Ldelete(f, "fits/slope", H5P_DEFAULT);
         const hid_t g = H5Gopen2(f, "fits", H5P_DEFAULT);
         AddDataset(g, "slope", H5T_IEEE_F32LE, {1});
         H5Gclose(g);
       }},
      {"table 'fits': column 'slope' is not a 1-D dataset",
       [](hid_t f) {
         H5Ldelete(f, "fits/slope", H5P_DEFAULT);
         const hid_t g = H5Gopen2(f, "fits", H5P_DEFAULT);
         AddDataset(g, "slope", H5T_NATIVE_DOUBLE, {1, 1});
         H5Gclose(g);
       }},
      {"table 'runs': column 'sampler' has type fixed-length string",
       [](hid_t f) {
         H5Ldelete(f, "runs/sampler", H5P_DEFAULT);
         const hid_t g = H5Gopen2(f, "runs", H5P_DEFAULT);
         const hid_t type = H5Tcopy(H5T_C_S1);
         H5Tset_size(type, 8);
         AddDataset(g, "sampler", type, {3});
         H5Tclose(type);
         H5Gclose(g);
       }},
      {"root attribute 'schema_version' has type 4-byte signed integer",
       [](hid_t f) {
         H5Adelete(f, "schema_version");
         const int one = 1;
         AddScalarAttribute(f, "schema_version", H5T_NATIVE_INT, &one);
       }},
      {"root attribute 'shape' is not a scalar",
       [](hid_t f) {
         const hsize_t two = 2;
         const double values[2] = {1.0, 2.0};
         const hid_t space = H5Screate_simple(1, &two, nullptr);
         const hid_t a = H5Acreate2(f, "shape", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT);
         H5Awrite(a, H5T_NATIVE_DOUBLE, values);
         H5Aclose(a);
         H5Sclose(space);
       }},
      {"'/link' is a soft or external link",
       [](hid_t f) { H5Lcreate_soft("/runs", f, "link", H5P_DEFAULT, H5P_DEFAULT); }},
  };
  const TempDir dir;
  const fs::path path = dir / "edited.h5";
  for (const auto& e : edits) {
    write_results_file(path, Small());
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    e.edit(file);
    ASSERT_GE(H5Fclose(file), 0);
    testing::internal::CaptureStderr();
    const std::string message = InvalidMessage([&] { (void)read_results_file(path); });
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "") << e.expected;
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find(e.expected), std::string::npos) << "expected '" << e.expected << "' in: " << message;
  }
}

// Files written with HDF5's defaults (no creation-order tracking, as h5py writes them unless
// track_order=True) are read in name order, with columns in "column_order".
TEST(ResultsFileRead, FileWithoutCreationOrderIsReadInNameOrder) {
  const TempDir dir;
  const fs::path path = dir / "plain.h5";
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t text = H5Tcopy(H5T_C_S1);
  H5Tset_size(text, H5T_VARIABLE);
  H5Tset_cset(text, H5T_CSET_UTF8);
  const Int version = 1;
  AddScalarAttribute(file, "schema_version", H5T_STD_I64LE, &version);
  const char* note = "plain";
  AddScalarAttribute(file, "note", text, &note);
  for (const char* table : {"runs", "fits"}) {
    const hid_t group = Check(H5Gcreate2(file, table, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    const Int rows = 2;
    AddScalarAttribute(group, "rows", H5T_STD_I64LE, &rows);
    const char* order[] = {"z", "a"};
    const hsize_t two = 2;
    const hid_t space = H5Screate_simple(1, &two, nullptr);
    const hid_t attribute = Check(H5Acreate2(group, "column_order", text, space, H5P_DEFAULT, H5P_DEFAULT));
    Check(H5Awrite(attribute, text, order));
    const hid_t z = Check(H5Dcreate2(group, "z", H5T_IEEE_F64BE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    const double values[2] = {1.5, -2.0};
    Check(H5Dwrite(z, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values));
    const hid_t a = Check(H5Dcreate2(group, "a", text, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    Check(H5Dwrite(a, text, H5S_ALL, H5S_ALL, H5P_DEFAULT, order));
    H5Dclose(a);
    H5Dclose(z);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Gclose(group);
  }
  H5Tclose(text);
  ASSERT_GE(H5Fclose(file), 0);

  testing::internal::CaptureStderr();
  const ResultsFile read = read_results_file(path);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_EQ(read.attributes.size(), 2u);
  EXPECT_EQ(read.attributes[0].first, "note");
  EXPECT_EQ(std::get<std::string>(read.attributes[0].second), "plain");
  EXPECT_EQ(read.attributes[1].first, "schema_version");
  ASSERT_EQ(read.tables.size(), 2u);
  EXPECT_EQ(read.tables[0].first, "fits");
  EXPECT_EQ(read.tables[1].first, "runs");
  const ColumnTable& runs = *read.table("runs");
  ASSERT_EQ(runs.columns.size(), 2u);
  EXPECT_EQ(runs.columns[0].first, "z");
  EXPECT_EQ(runs.doubles("z"), (Doubles{1.5, -2.0}));  // big-endian on disk, converted
  EXPECT_EQ(runs.strings("a"), (Strings{"z", "a"}));
}

// ---------------------------------------------------------------------------------------------
// The file read by tests/results/read_with_h5py.py. Values here and in the script must agree.

ResultsFile PythonFixture() {
  ResultsFile file;
  file.attributes = {{"schema_version", Int{1}},
                     {"tool_version", std::string("0.1.0")},
                     {"threads", Int{8}},
                     {"created_utc", std::string("2024-05-01T12:00:00Z")},
                     {"weight", -0.0},
                     {"command_line", std::string("dmconv run §6.3 – α.toml --set run.seed=7")},
                     {"config_text", std::string("[run]\nsteps = [64, 128]\n")}};
  ColumnTable runs;
  runs.columns = {{"run_index", Ints{0, 1, 2, 3}},
                  {"sampler", Strings{"ddpm", "", "§6.3 – α", std::string(10000, 'x')}},
                  {"value", Doubles{1.5, std::numeric_limits<double>::quiet_NaN(), kInf, -0.0}},
                  {"floor", Doubles{std::numeric_limits<double>::denorm_min(), -kInf, 1e308, 0.1}},
                  {"seed", Ints{kIntMin, kIntMax, -1, 0}},
                  {"schedule.c1", Doubles{0.5, 0.5, 1.0, 1.0}}};
  ColumnTable fits;
  fits.columns = {{"claim", Strings{"ddpm_T", "ddim_T"}},
                  {"slope", Doubles{-1.0009765625, -2.5}},
                  {"points_used", Ints{7, 6}},
                  {"α.weight", Doubles{0.5, 0.25}}};
  ColumnTable empty;
  empty.columns = {{"value", Doubles{}}, {"seed", Ints{}}, {"sampler", Strings{}}};
  file.tables = {{"runs", runs}, {"fits", fits}, {"empty", empty}, {"no_columns", ColumnTable{}}};
  return file;
}

TEST(ResultsFileH5py, WritesFixtureForPython) {
  const TempDir dir;
  const char* requested = std::getenv("DMCONV_RESULTS_FIXTURE");
  const fs::path path = requested != nullptr ? fs::path(requested) : dir / "fixture.h5";
  write_results_file(path, PythonFixture());
  ExpectSameFile(PythonFixture(), read_results_file(path));
}

}  // namespace
}  // namespace dmconv::results
