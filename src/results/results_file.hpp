// Results files (docs/design.md §7; schema of the tables in results/README.md).
//
// A results file is an HDF5 file holding named column tables ("runs", "fits") and scalar
// root attributes (provenance: versions, config text and hash, ...). The layout is chosen so
// that h5py + numpy read it with no custom code:
//
//   /                 root attributes: int64, float64 or variable-length UTF-8 string scalars
//   /<table>          one group per table, with attributes
//                       column_order  1-D array of vlen UTF-8 strings: the column names, in order
//                       rows          int64 scalar: the length of every column
//   /<table>/<column> one 1-D dataset per column: float64, int64 or vlen UTF-8 strings
//                     (a table of 0 rows has empty datasets)
//
// Names and string values must be valid UTF-8 without NUL bytes (a vlen string ends at its
// first NUL); names are also non-empty, not ".", without '/', and unique among their siblings.
// Doubles round-trip bit for bit (NaN payloads, -0.0, denormals). Creation order of tables,
// of the columns of a group and of root attributes is tracked, so h5py's `list(f["/"])`,
// `list(f["runs"])` and `f.attrs.keys()` see the order of the ResultsFile as well (h5py's
// `list(f)` on the File object itself is always in name order).
//
// Writes are atomic: the file is written under a temporary name in the same directory,
// closed, flushed to disk and renamed over the destination, so a crash or a failure never
// leaves a half-written results file and never damages an existing one. Input is checked
// before anything touches the disk.
//
// HDF5's automatic printing of its error stack is switched off for the duration of each
// call (and restored after), so a failure is reported once, as an InvalidArgument naming
// the path and the reason. Calls from different threads are serialised by a process-wide
// mutex.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace dmconv::results {

using Column = std::variant<std::vector<double>, std::vector<std::int64_t>, std::vector<std::string>>;

// "float64", "int64" or "string": the HDF5/numpy name of the column's type.
const char* type_name(const Column& column);
std::size_t length(const Column& column);

// Equal-length named columns, in order.
struct ColumnTable {
  std::vector<std::pair<std::string, Column>> columns;
  // Used only in error messages ("table 'runs': ..."). read_results_file sets it to the group
  // name; write_results_file stores a table under its key in ResultsFile::tables and ignores it.
  std::string name;

  // The common length of the columns; 0 if there are none. Throws InvalidArgument naming the
  // two columns when lengths differ.
  std::size_t rows() const;
  // The first column called `column_name`, or nullptr.
  const Column* find(const std::string& column_name) const;
  // Typed access. Throws InvalidArgument naming the table and the column when the column is
  // missing (listing the columns present) or holds another type (naming both types).
  const std::vector<double>& doubles(const std::string& column_name) const;
  const std::vector<std::int64_t>& ints(const std::string& column_name) const;
  const std::vector<std::string>& strings(const std::string& column_name) const;
};

using Attribute = std::variant<std::int64_t, double, std::string>;

struct ResultsFile {
  std::vector<std::pair<std::string, Attribute>> attributes;  // root attributes, in order
  std::vector<std::pair<std::string, ColumnTable>> tables;    // e.g. "runs", "fits", in order

  // The first table / attribute of that name, or nullptr.
  const ColumnTable* table(const std::string& table_name) const;
  const Attribute* attribute(const std::string& attribute_name) const;
};

// Writes `file` to `path` atomically: writes "<path>.tmp-<pid>" in the same directory, closes
// and fsyncs it, then std::filesystem::rename's it over `path` (replacing an existing file).
// Preconditions (checked before the disk is touched): the rules of the file comment on names
// and strings; every table has columns of equal length; the directory of `path` exists.
// On any failure the temporary file is removed, an existing file at `path` is left untouched,
// and InvalidArgument is thrown naming the path and the reason.
void write_results_file(const std::filesystem::path& path, const ResultsFile& file);

// Temporary files "<path>.tmp-<pid>" left by a write_results_file whose process was killed
// before its rename: those whose pid names no live process (kill(pid, 0) fails with ESRCH) are
// removed and returned. Files of live processes (e.g. another dmconv writing the same path),
// names whose suffix is not a pid, and anything that is not a regular file are left alone.
struct StaleTemporary {
  std::filesystem::path path;
  long pid = 0;
};
std::vector<StaleTemporary> remove_stale_temporaries(const std::filesystem::path& path);

// Reads a file in the layout above: tables in creation order (name order for files written
// without creation-order tracking), columns in "column_order", types from the dataset types
// (float64, int64, vlen strings; other types are rejected, not converted), root attributes in
// creation order. Throws InvalidArgument naming the path when the file is missing, not HDF5,
// or not in this layout (e.g. a dataset at the root, a column missing from "column_order",
// a column whose length differs from "rows", an unknown attribute on a table group).
ResultsFile read_results_file(const std::filesystem::path& path);

}  // namespace dmconv::results
