// Running an experiment config (issue 4; docs/design.md §6-§7; schema in results/README.md), as a
// staged pipeline, one stage per file:
//
//   config   config/experiment_config.hpp   TOML + --set -> ExperimentConfig (one reader per section)
//   plan     experiment/plan.hpp            sweep expanded; components built once per sweep point
//   execute  experiment/execute.hpp         runs, checkpoints, --resume, progress
//   claims   experiment/claims.hpp          rate fits and verdicts
//   report   experiment/report.hpp          error tables and verdict lines
//   rows     experiment/rows.hpp            the /runs and /fits schema between the stages
//
//   plan = make_plan(config)                 throws ConfigError (file:line, key, value, rule);
//                                            nothing is written
//   outcome = run_experiment(plan, options)  rows, fits, the results file
#pragma once

#include "config/experiment_config.hpp"
#include "experiment/claims.hpp"
#include "experiment/execute.hpp"
#include "experiment/merge.hpp"
#include "experiment/plan.hpp"
#include "experiment/report.hpp"
#include "experiment/rows.hpp"
#include "experiment/shard.hpp"
