#include "results/results_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <hdf5.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "core/error.hpp"

namespace dmconv::results {
namespace {

namespace fs = std::filesystem;

// The reason of a failure inside write/read; the public functions prefix the path.
class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string quoted(const fs::path& path) {
  std::string out(1, '"');  // appended, not "\"" + ...: GCC 12 -Wrestrict false positive (bug 105329)
  out += path.string();
  out += '"';
  return out;
}

// ---------------------------------------------------------------------------------------------
// HDF5 plumbing

herr_t collect_error(unsigned /*n*/, const H5E_error2_t* error, void* data) {
  auto* descriptions = static_cast<std::vector<std::string>*>(data);
  if (error->desc != nullptr && error->desc[0] != '\0') descriptions->emplace_back(error->desc);
  return 0;
}

// The current HDF5 error stack as "outermost description (innermost description)"; clears it.
std::string hdf5_reason() {
  std::vector<std::string> descriptions;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &descriptions);
  H5Eclear2(H5E_DEFAULT);
  if (descriptions.empty()) return "HDF5 error";
  if (descriptions.size() == 1 || descriptions.front() == descriptions.back()) return descriptions.front();
  return descriptions.front() + " (" + descriptions.back() + ")";
}

[[noreturn]] void hdf5_fail(const std::string& what) { throw Failure(what + ": " + hdf5_reason()); }

void check(herr_t status, const std::string& what) {
  if (status < 0) hdf5_fail(what);
}

// Owns an HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle(hid_t id, Closer closer, const std::string& what) : id_(id), closer_(closer) {
    if (id_ < 0) hdf5_fail(what);
  }
  Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = H5I_INVALID_HID; }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle& operator=(Handle&&) = delete;
  ~Handle() {
    if (id_ >= 0) closer_(id_);
  }
  hid_t get() const { return id_; }
  // Closes now and reports failure (for the file: a failed close may mean unwritten data).
  void close(const std::string& what) {
    const herr_t status = closer_(id_);
    id_ = H5I_INVALID_HID;
    check(status, what);
  }

 private:
  hid_t id_;
  Closer closer_;
};

// Switches HDF5's automatic error printing off for this thread, restoring it on destruction.
class QuietErrors {
 public:
  QuietErrors() {
    saved_ = H5Eget_auto2(H5E_DEFAULT, &function_, &data_) >= 0;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;
  ~QuietErrors() {
    if (saved_) H5Eset_auto2(H5E_DEFAULT, function_, data_);
  }

 private:
  H5E_auto2_t function_ = nullptr;
  void* data_ = nullptr;
  bool saved_ = false;
};

// One results-file operation at a time in this process: the temporary name is per process,
// and HDF5 builds without thread safety must not be entered concurrently.
std::mutex& io_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Variable-length string type with the given character set.
Handle vlen_string_type(H5T_cset_t cset) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "cannot create string type");
  check(H5Tset_size(type.get(), H5T_VARIABLE), "cannot create string type");
  check(H5Tset_cset(type.get(), cset), "cannot create string type");
  return type;
}

// Frees the strings HDF5 allocated while reading into `buffer`.
class VlenBuffer {
 public:
  VlenBuffer(hid_t memory_type, hid_t space, std::size_t count)
      : memory_type_(memory_type), space_(space), pointers_(count, nullptr) {}
  VlenBuffer(const VlenBuffer&) = delete;
  VlenBuffer& operator=(const VlenBuffer&) = delete;
  ~VlenBuffer() {
    if (pointers_.empty()) return;
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(memory_type_, space_, H5P_DEFAULT, pointers_.data());
#else
    H5Dvlen_reclaim(memory_type_, space_, H5P_DEFAULT, pointers_.data());
#endif
  }
  char** data() { return pointers_.data(); }
  std::vector<std::string> strings() const {
    std::vector<std::string> out;
    out.reserve(pointers_.size());
    // An unwritten vlen string reads as a null pointer; h5py reads it as "".
    for (const char* p : pointers_) out.emplace_back(p != nullptr ? p : "");
    return out;
  }

 private:
  hid_t memory_type_;
  hid_t space_;
  std::vector<char*> pointers_;
};

// ---------------------------------------------------------------------------------------------
// Validation (before the disk is touched)

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    std::uint32_t minimum = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xE0) == 0xC0) {
      extra = 1, code = byte & 0x1Fu, minimum = 0x80;
    } else if ((byte & 0xF0) == 0xE0) {
      extra = 2, code = byte & 0x0Fu, minimum = 0x800;
    } else if ((byte & 0xF8) == 0xF0) {
      extra = 3, code = byte & 0x07u, minimum = 0x10000;
    } else {
      return false;
    }
    if (n - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3Fu);
    }
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

// `what` describes the string, e.g. "column 'target' of table 'runs', row 3".
void check_text(const std::string& text, const std::string& what) {
  if (text.find('\0') != std::string::npos) throw Failure(what + " contains a NUL byte");
  if (!valid_utf8(text)) throw Failure(what + " is not valid UTF-8");
}

void check_name(const std::string& name, const std::string& what, std::set<std::string>& seen) {
  if (name.empty()) throw Failure(what + " name is empty");
  check_text(name, what + " name '" + name + "'");
  if (name == "." || name.find('/') != std::string::npos)
    throw Failure(what + " name '" + name + "' must not be '.' or contain '/'");
  if (!seen.insert(name).second) throw Failure(what + " name '" + name + "' is used twice");
}

void validate(const ResultsFile& file) {
  std::set<std::string> attribute_names;
  for (const auto& [name, value] : file.attributes) {
    check_name(name, "root attribute", attribute_names);
    if (const auto* text = std::get_if<std::string>(&value)) check_text(*text, "root attribute '" + name + "'");
  }
  std::set<std::string> table_names;
  for (const auto& [table_name, table] : file.tables) {
    check_name(table_name, "table", table_names);
    const std::string where = "table '" + table_name + "'";
    std::set<std::string> column_names;
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      const auto& [name, column] = table.columns[c];
      check_name(name, where + ": column", column_names);
      if (length(column) != length(table.columns.front().second))
        throw Failure(where + ": column '" + name + "' has " + std::to_string(length(column)) +
                      " rows but column '" + table.columns.front().first + "' has " +
                      std::to_string(length(table.columns.front().second)));
      if (const auto* texts = std::get_if<std::vector<std::string>>(&column))
        for (std::size_t r = 0; r < texts->size(); ++r)
          check_text((*texts)[r], where + ": column '" + name + "', row " + std::to_string(r) + ",");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

struct WriteContext {
  Handle link_plist{H5Pcreate(H5P_LINK_CREATE), H5Pclose, "cannot create link property list"};
  Handle attribute_plist{H5Pcreate(H5P_ATTRIBUTE_CREATE), H5Pclose, "cannot create attribute property list"};
  Handle group_plist{H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "cannot create group property list"};
  Handle string_type = vlen_string_type(H5T_CSET_UTF8);

  WriteContext() {
    // Names are stored as UTF-8, and groups remember the creation order of links and
    // attributes (h5py then lists columns in order).
    check(H5Pset_char_encoding(link_plist.get(), H5T_CSET_UTF8), "cannot set link name encoding");
    check(H5Pset_char_encoding(attribute_plist.get(), H5T_CSET_UTF8), "cannot set attribute name encoding");
    const unsigned order = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
    check(H5Pset_link_creation_order(group_plist.get(), order), "cannot track link creation order");
    check(H5Pset_attr_creation_order(group_plist.get(), order), "cannot track attribute creation order");
  }
};

void write_attribute(const WriteContext& context, hid_t object, const std::string& name, const Attribute& value) {
  const std::string what = "cannot write attribute '" + name + "'";
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, what);
  if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    Handle attribute(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space.get(), context.attribute_plist.get(),
                                H5P_DEFAULT),
                     H5Aclose, what);
    check(H5Awrite(attribute.get(), H5T_NATIVE_INT64, integer), what);
  } else if (const auto* real = std::get_if<double>(&value)) {
    Handle attribute(H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, space.get(), context.attribute_plist.get(),
                                H5P_DEFAULT),
                     H5Aclose, what);
    check(H5Awrite(attribute.get(), H5T_NATIVE_DOUBLE, real), what);
  } else {
    const char* text = std::get<std::string>(value).c_str();
    Handle attribute(H5Acreate2(object, name.c_str(), context.string_type.get(), space.get(),
                                context.attribute_plist.get(), H5P_DEFAULT),
                     H5Aclose, what);
    check(H5Awrite(attribute.get(), context.string_type.get(), &text), what);
  }
}

std::vector<const char*> c_strings(const std::vector<std::string>& texts) {
  std::vector<const char*> pointers;
  pointers.reserve(texts.size());
  for (const auto& text : texts) pointers.push_back(text.c_str());
  return pointers;
}

void write_column(const WriteContext& context, hid_t group, const std::string& table_name, const std::string& name,
                  const Column& column) {
  const std::string what = "table '" + table_name + "': cannot write column '" + name + "'";
  const hsize_t rows = length(column);
  Handle space(H5Screate_simple(1, &rows, nullptr), H5Sclose, what);
  hid_t file_type = H5T_IEEE_F64LE;
  hid_t memory_type = H5T_NATIVE_DOUBLE;
  const void* data = nullptr;
  std::vector<const char*> pointers;
  if (const auto* reals = std::get_if<std::vector<double>>(&column)) {
    data = reals->data();
  } else if (const auto* integers = std::get_if<std::vector<std::int64_t>>(&column)) {
    file_type = H5T_STD_I64LE;
    memory_type = H5T_NATIVE_INT64;
    data = integers->data();
  } else {
    pointers = c_strings(std::get<std::vector<std::string>>(column));
    file_type = memory_type = context.string_type.get();
    data = pointers.data();
  }
  Handle dataset(H5Dcreate2(group, name.c_str(), file_type, space.get(), context.link_plist.get(), H5P_DEFAULT,
                            H5P_DEFAULT),
                 H5Dclose, what);
  if (rows > 0) check(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), what);
}

void write_table(const WriteContext& context, hid_t file, const std::string& name, const ColumnTable& table) {
  const std::string what = "cannot write table '" + name + "'";
  Handle group(H5Gcreate2(file, name.c_str(), context.link_plist.get(), context.group_plist.get(), H5P_DEFAULT),
               H5Gclose, what);
  std::vector<std::string> names;
  for (const auto& column : table.columns) names.push_back(column.first);
  const std::vector<const char*> pointers = c_strings(names);
  const hsize_t count = names.size();
  Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose, what);
  Handle order(H5Acreate2(group.get(), "column_order", context.string_type.get(), space.get(),
                          context.attribute_plist.get(), H5P_DEFAULT),
               H5Aclose, what + ": cannot create attribute 'column_order'");
  if (count > 0)
    check(H5Awrite(order.get(), context.string_type.get(), pointers.data()),
          what + ": cannot write attribute 'column_order'");
  write_attribute(context, group.get(), "rows", static_cast<std::int64_t>(table.rows()));
  for (const auto& [column_name, column] : table.columns)
    write_column(context, group.get(), name, column_name, column);
}

void write_hdf5(const fs::path& temporary, const ResultsFile& file) {
  Handle creation(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "cannot create file property list");
  const unsigned order = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
  check(H5Pset_link_creation_order(creation.get(), order), "cannot track table creation order");
  check(H5Pset_attr_creation_order(creation.get(), order), "cannot track attribute creation order");
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot create file access property list");
  // Closing the file closes everything in it, so a successful close means a complete file.
  check(H5Pset_fclose_degree(access.get(), H5F_CLOSE_STRONG), "cannot set file close degree");
  Handle out(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, creation.get(), access.get()), H5Fclose,
             "cannot create " + quoted(temporary));
  {
    const WriteContext context;
    Handle root(H5Gopen2(out.get(), "/", H5P_DEFAULT), H5Gclose, "cannot open the root group");
    for (const auto& [name, value] : file.attributes) write_attribute(context, root.get(), name, value);
    for (const auto& [name, table] : file.tables) write_table(context, out.get(), name, table);
  }
  out.close("cannot close " + quoted(temporary));
}

// fsync(path); with `required` false, failures are ignored (directories on some filesystems).
void sync_to_disk(const fs::path& path, bool required) {
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0) {
    if (required) throw Failure("cannot open " + quoted(path) + " to flush it: " + std::strerror(errno));
    return;
  }
  const int status = ::fsync(descriptor);
  const int error = errno;
  ::close(descriptor);
  if (status != 0 && required) throw Failure("cannot flush " + quoted(path) + " to disk: " + std::strerror(error));
}

// ---------------------------------------------------------------------------------------------
// Reading

struct Link {
  std::string name;
  bool hard;
};

herr_t collect_link(hid_t /*group*/, const char* name, const H5L_info_t* info, void* data) {
  static_cast<std::vector<Link>*>(data)->push_back({name, info->type == H5L_TYPE_HARD});
  return 0;
}

herr_t collect_attribute(hid_t /*object*/, const char* name, const H5A_info_t* /*info*/, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

// Links of `group` in creation order when the group tracks it, else in name order.
std::vector<Link> links(hid_t group, const std::string& what) {
  Handle plist(H5Gget_create_plist(group), H5Pclose, what);
  unsigned flags = 0;
  check(H5Pget_link_creation_order(plist.get(), &flags), what);
  std::vector<Link> out;
  if ((flags & H5P_CRT_ORDER_TRACKED) != 0) {
    hsize_t position = 0;
    if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, &position, collect_link, &out) >= 0) return out;
    H5Eclear2(H5E_DEFAULT);  // tracked without an index: fall back to name order
    out.clear();
  }
  hsize_t position = 0;
  check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &position, collect_link, &out), what);
  return out;
}

// Attribute names of `group` in creation order when the group tracks it, else in name order.
std::vector<std::string> attribute_names(hid_t group, const std::string& what) {
  Handle plist(H5Gget_create_plist(group), H5Pclose, what);
  unsigned flags = 0;
  check(H5Pget_attr_creation_order(plist.get(), &flags), what);
  std::vector<std::string> out;
  if ((flags & H5P_CRT_ORDER_TRACKED) != 0) {
    hsize_t position = 0;
    if (H5Aiterate2(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, &position, collect_attribute, &out) >= 0) return out;
    H5Eclear2(H5E_DEFAULT);  // tracked without an index: fall back to name order
    out.clear();
  }
  hsize_t position = 0;
  check(H5Aiterate2(group, H5_INDEX_NAME, H5_ITER_INC, &position, collect_attribute, &out), what);
  return out;
}

enum class Kind { kFloat64, kInt64, kString, kOther };

Kind kind_of(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return H5Tget_size(type) == 8 ? Kind::kFloat64 : Kind::kOther;
    case H5T_INTEGER:
      return H5Tget_size(type) == 8 && H5Tget_sign(type) == H5T_SGN_2 ? Kind::kInt64 : Kind::kOther;
    case H5T_STRING:
      return H5Tis_variable_str(type) > 0 ? Kind::kString : Kind::kOther;
    default:
      return Kind::kOther;
  }
}

std::string describe_type(hid_t type) {
  const std::string bytes = std::to_string(H5Tget_size(type)) + "-byte ";
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return bytes + "float";
    case H5T_INTEGER:
      return bytes + (H5Tget_sign(type) == H5T_SGN_2 ? "signed" : "unsigned") + " integer";
    case H5T_STRING:
      return H5Tis_variable_str(type) > 0 ? "variable-length string" : "fixed-length string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length sequence";
    case H5T_ENUM:
      return "enum";
    default:
      return "unsupported type";
  }
}

std::vector<std::string> read_strings(hid_t object, hid_t file_type, bool is_attribute, std::size_t count,
                                      const std::string& what) {
  Handle memory_type = vlen_string_type(H5Tget_cset(file_type));
  Handle space(is_attribute ? H5Aget_space(object) : H5Dget_space(object), H5Sclose, what);
  VlenBuffer buffer(memory_type.get(), space.get(), count);
  if (count == 0) return {};
  check(is_attribute ? H5Aread(object, memory_type.get(), buffer.data())
                     : H5Dread(object, memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()),
        what);
  return buffer.strings();
}

Attribute read_scalar_attribute(hid_t object, const std::string& name, const std::string& where) {
  const std::string what = where + "attribute '" + name + "'";
  Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, "cannot open " + what);
  Handle space(H5Aget_space(attribute.get()), H5Sclose, "cannot read " + what);
  Handle type(H5Aget_type(attribute.get()), H5Tclose, "cannot read " + what);
  if (H5Sget_simple_extent_type(space.get()) != H5S_SCALAR)
    throw Failure(what + " is not a scalar");
  switch (kind_of(type.get())) {
    case Kind::kFloat64: {
      double value = 0.0;
      check(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value), "cannot read " + what);
      return value;
    }
    case Kind::kInt64: {
      std::int64_t value = 0;
      check(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value), "cannot read " + what);
      return value;
    }
    case Kind::kString:
      return read_strings(attribute.get(), type.get(), true, 1, "cannot read " + what).front();
    case Kind::kOther:
      break;
  }
  throw Failure(what + " has type " + describe_type(type.get()) +
                " (expected int64, float64 or a variable-length string)");
}

std::vector<std::string> read_column_order(hid_t group, const std::string& where) {
  const std::string what = where + ": attribute 'column_order'";
  Handle attribute(H5Aopen(group, "column_order", H5P_DEFAULT), H5Aclose, "cannot open " + what);
  Handle space(H5Aget_space(attribute.get()), H5Sclose, "cannot read " + what);
  Handle type(H5Aget_type(attribute.get()), H5Tclose, "cannot read " + what);
  if (H5Sget_simple_extent_type(space.get()) != H5S_SIMPLE || H5Sget_simple_extent_ndims(space.get()) != 1 ||
      kind_of(type.get()) != Kind::kString)
    throw Failure(what + " is not a 1-D array of variable-length strings");
  hsize_t count = 0;
  check(H5Sget_simple_extent_dims(space.get(), &count, nullptr), "cannot read " + what);
  return read_strings(attribute.get(), type.get(), true, count, "cannot read " + what);
}

Column read_column(hid_t group, const std::string& where, const std::string& name, std::size_t rows) {
  const std::string what = where + ": column '" + name + "'";
  Handle dataset(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose, "cannot open " + what);
  Handle space(H5Dget_space(dataset.get()), H5Sclose, "cannot read " + what);
  Handle type(H5Dget_type(dataset.get()), H5Tclose, "cannot read " + what);
  if (H5Sget_simple_extent_type(space.get()) != H5S_SIMPLE || H5Sget_simple_extent_ndims(space.get()) != 1)
    throw Failure(what + " is not a 1-D dataset");
  hsize_t count = 0;
  check(H5Sget_simple_extent_dims(space.get(), &count, nullptr), "cannot read " + what);
  if (count != rows)
    throw Failure(what + " has " + std::to_string(count) + " rows but the table has rows = " + std::to_string(rows));
  switch (kind_of(type.get())) {
    case Kind::kFloat64: {
      std::vector<double> values(rows);
      if (rows > 0)
        check(H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
              "cannot read " + what);
      return values;
    }
    case Kind::kInt64: {
      std::vector<std::int64_t> values(rows);
      if (rows > 0)
        check(H5Dread(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
              "cannot read " + what);
      return values;
    }
    case Kind::kString:
      return read_strings(dataset.get(), type.get(), false, rows, "cannot read " + what);
    case Kind::kOther:
      break;
  }
  throw Failure(what + " has type " + describe_type(type.get()) +
                " (expected float64, int64 or a variable-length string)");
}

ColumnTable read_table(hid_t group, const std::string& name) {
  const std::string where = "table '" + name + "'";
  bool has_order = false, has_rows = false;
  for (const auto& attribute : attribute_names(group, "cannot list the attributes of " + where)) {
    if (attribute == "column_order") {
      has_order = true;
    } else if (attribute == "rows") {
      has_rows = true;
    } else {
      throw Failure(where + " has an unexpected attribute '" + attribute + "'");
    }
  }
  if (!has_order) throw Failure(where + " has no attribute 'column_order'");
  if (!has_rows) throw Failure(where + " has no attribute 'rows'");

  const Attribute rows_attribute = read_scalar_attribute(group, "rows", where + ": ");
  const auto* rows = std::get_if<std::int64_t>(&rows_attribute);
  if (rows == nullptr || *rows < 0) throw Failure(where + ": attribute 'rows' is not a non-negative int64");
  const std::vector<std::string> order = read_column_order(group, where);

  std::set<std::string> datasets;
  for (const auto& link : links(group, "cannot list " + where)) {
    if (!link.hard) throw Failure(where + ": '" + link.name + "' is a soft or external link, not a column");
    datasets.insert(link.name);
  }
  std::set<std::string> listed;
  for (const auto& column : order) {
    if (!listed.insert(column).second) throw Failure(where + ": 'column_order' lists '" + column + "' twice");
    if (datasets.count(column) == 0)
      throw Failure(where + ": 'column_order' lists '" + column + "' but the group has no such dataset");
  }
  for (const auto& dataset : datasets)
    if (listed.count(dataset) == 0) throw Failure(where + ": '" + dataset + "' is not listed in 'column_order'");

  ColumnTable table;
  table.name = name;
  for (const auto& column : order) {
    Handle object(H5Oopen(group, column.c_str(), H5P_DEFAULT), H5Oclose, "cannot open " + where + "/" + column);
    if (H5Iget_type(object.get()) != H5I_DATASET)
      throw Failure(where + ": '" + column + "' is not a dataset");
    table.columns.emplace_back(column, read_column(group, where, column, static_cast<std::size_t>(*rows)));
  }
  return table;
}

ResultsFile read_hdf5(const fs::path& path) {
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot create file access property list");
  check(H5Pset_fclose_degree(access.get(), H5F_CLOSE_STRONG), "cannot set file close degree");
  Handle in(H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get()), H5Fclose, "cannot open");
  ResultsFile file;
  Handle root(H5Gopen2(in.get(), "/", H5P_DEFAULT), H5Gclose, "cannot open the root group");
  for (const auto& name : attribute_names(root.get(), "cannot list the root attributes"))
    file.attributes.emplace_back(name, read_scalar_attribute(root.get(), name, "root "));
  for (const auto& link : links(root.get(), "cannot list the root group")) {
    if (!link.hard) throw Failure("'/" + link.name + "' is a soft or external link, not a table");
    Handle object(H5Oopen(root.get(), link.name.c_str(), H5P_DEFAULT), H5Oclose, "cannot open '/" + link.name + "'");
    if (H5Iget_type(object.get()) != H5I_GROUP) throw Failure("'/" + link.name + "' is not a group (a table)");
    file.tables.emplace_back(link.name, read_table(object.get(), link.name));
  }
  return file;
}

// ---------------------------------------------------------------------------------------------
// ColumnTable helpers

std::string table_context(const ColumnTable& table) {
  return table.name.empty() ? std::string("column table") : "table '" + table.name + "'";
}

template <class T>
const std::vector<T>& typed(const ColumnTable& table, const std::string& name, const char* wanted) {
  const Column* column = table.find(name);
  if (column == nullptr) {
    std::string present;
    for (const auto& entry : table.columns) present += (present.empty() ? "" : ", ") + entry.first;
    throw InvalidArgument(table_context(table) + ": no column '" + name + "' (columns: " +
                          (present.empty() ? "none" : present) + ")");
  }
  if (const auto* values = std::get_if<std::vector<T>>(column)) return *values;
  throw InvalidArgument(table_context(table) + ": column '" + name + "' holds " + type_name(*column) + ", not " +
                        wanted);
}

}  // namespace

const char* type_name(const Column& column) {
  switch (column.index()) {
    case 0:
      return "float64";
    case 1:
      return "int64";
    default:
      return "string";
  }
}

std::size_t length(const Column& column) {
  return std::visit([](const auto& values) { return values.size(); }, column);
}

std::size_t ColumnTable::rows() const {
  if (columns.empty()) return 0;
  const std::size_t first = length(columns.front().second);
  for (const auto& [column_name, column] : columns)
    if (length(column) != first)
      throw InvalidArgument(table_context(*this) + ": column '" + column_name + "' has " +
                            std::to_string(length(column)) +
                            " rows but column '" + columns.front().first + "' has " + std::to_string(first));
  return first;
}

const Column* ColumnTable::find(const std::string& column_name) const {
  for (const auto& entry : columns)
    if (entry.first == column_name) return &entry.second;
  return nullptr;
}

const std::vector<double>& ColumnTable::doubles(const std::string& column_name) const {
  return typed<double>(*this, column_name, "float64");
}

const std::vector<std::int64_t>& ColumnTable::ints(const std::string& column_name) const {
  return typed<std::int64_t>(*this, column_name, "int64");
}

const std::vector<std::string>& ColumnTable::strings(const std::string& column_name) const {
  return typed<std::string>(*this, column_name, "string");
}

const ColumnTable* ResultsFile::table(const std::string& table_name) const {
  for (const auto& [name, table] : tables)
    if (name == table_name) return &table;
  return nullptr;
}

const Attribute* ResultsFile::attribute(const std::string& attribute_name) const {
  for (const auto& [name, value] : attributes)
    if (name == attribute_name) return &value;
  return nullptr;
}

void write_results_file(const fs::path& path, const ResultsFile& file) {
  const std::string prefix = "results file " + quoted(path) + ": cannot write: ";
  try {
    validate(file);
  } catch (const Failure& failure) {
    throw InvalidArgument(prefix + failure.what());
  }
  const fs::path filename = path.filename();
  if (filename.empty() || filename == "." || filename == "..")
    throw InvalidArgument(prefix + "the path does not name a file");
  const fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code error;
  if (!fs::is_directory(directory, error))
    throw InvalidArgument(prefix + "directory " + quoted(directory) + " does not exist");
  const fs::path temporary =
      path.parent_path() / (filename.string() + ".tmp-" + std::to_string(static_cast<long>(::getpid())));

  const std::lock_guard lock(io_mutex());
  // Only a regular file (ours, from an earlier crash of a process with this pid) is overwritten.
  const fs::file_status status = fs::symlink_status(temporary, error);
  if (fs::exists(status) && !fs::is_regular_file(status))
    throw InvalidArgument(prefix + "temporary path " + quoted(temporary) + " exists and is not a regular file");

  const QuietErrors quiet;
  try {
    write_hdf5(temporary, file);
    sync_to_disk(temporary, true);
    fs::rename(temporary, path, error);
    if (error) throw Failure("cannot rename " + quoted(temporary) + " to " + quoted(path) + ": " + error.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    try {
      throw;
    } catch (const Failure& failure) {
      throw InvalidArgument(prefix + failure.what());
    }
  }
  sync_to_disk(directory, false);  // make the rename durable where the filesystem allows
}

std::vector<StaleTemporary> remove_stale_temporaries(const fs::path& path) {
  std::vector<StaleTemporary> removed;
  const fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string prefix = path.filename().string() + ".tmp-";
  std::error_code error;
  if (path.filename().empty() || !fs::is_directory(directory, error)) return removed;
  const std::lock_guard lock(io_mutex());  // not while this process writes its own temporary
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::stol(digits);
    std::error_code status_error;
    if (pid <= 0 || !entry.is_regular_file(status_error)) continue;
    // ESRCH: no such process. EPERM means a live process of another user: not ours to remove.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code remove_error;
    if (fs::remove(entry.path(), remove_error)) removed.push_back({entry.path(), pid});
  }
  return removed;
}

ResultsFile read_results_file(const fs::path& path) {
  const std::string prefix = "results file " + quoted(path) + ": cannot read: ";
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error && error != std::errc::no_such_file_or_directory) throw InvalidArgument(prefix + error.message());
  if (!fs::exists(status)) throw InvalidArgument(prefix + "no such file");
  if (!fs::is_regular_file(status)) throw InvalidArgument(prefix + "not a regular file");

  const std::lock_guard lock(io_mutex());
  const QuietErrors quiet;
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 < 0) throw InvalidArgument(prefix + hdf5_reason());
  if (is_hdf5 == 0) throw InvalidArgument(prefix + "not an HDF5 file");
  try {
    return read_hdf5(path);
  } catch (const Failure& failure) {
    throw InvalidArgument(prefix + failure.what());
  }
}

}  // namespace dmconv::results
