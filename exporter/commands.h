#pragma once

#include "exporter/cli.h"

namespace portwarden {

/// `snapshot`: collect once and print the listeners. Exit 0, or 1 if a collector failed.
int SnapshotCommand(const Options& options);

/// `check`: collect once, evaluate the expectations, print the report.
/// Exit 0 clean, 1 findings, 2 error (bad config, failed collector).
int CheckCommand(const Options& options);

/// `learn`: print an expectations file (valid --config.file input) that describes the
/// current owners of the given ports (all without --ports).
int LearnCommand(const Options& options);

/// `check-config FILE`: validate only. Exit 0 valid, 1 invalid.
int CheckConfigCommand(const Options& options);

/// `decode KIND FILE`: parse a saved netsh or netstat output (UTF-8, or UTF-16LE with a byte
/// order mark) and print its records as JSON on stdout. Exit 0, or 1 when the file cannot be
/// read or holds no such output (the message names the file and what was expected).
int DecodeCommand(const Options& options);

}  // namespace portwarden
