// The report stage of `dmconv lsi`: the table on stdout and the HDF5 file in the layout of
// results/README.md ("LSI profile files"): root attributes and the tables /profile, /t1_star and
// /claims.
#pragma once
#include <filesystem>
#include <ostream>
#include <vector>

#include "lsi/lsi_claims.hpp"
#include "lsi/lsi_config.hpp"
#include "lsi/profile.hpp"
#include "results/provenance.hpp"

namespace dmconv::lsi {

void print_target(std::ostream& out, const TargetProfile& target, const LsiSettings& settings);
// Returns the number of violated rows.
int print_claims(std::ostream& out, const std::vector<ClaimRow>& rows);
void write_lsi_file(const std::filesystem::path& path, const results::Origin& origin, const LsiSettings& settings,
                    const std::vector<TargetProfile>& targets, const std::vector<ClaimRow>& rows);

}  // namespace dmconv::lsi
