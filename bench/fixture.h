#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace portwarden::bench {

/// The shape of a busy host, built on loopback only (127.0.0.1 and ::1).
struct FixtureOptions {
  int processes = 50;      ///< P: masters plus their workers
  int workers = 1;         ///< workers forked by each master; they inherit all its fds
  int listeners = 500;     ///< L: TCP listeners, spread over the masters, v4 and v6 alternating
  int udp = 125;           ///< U: bound UDP sockets
  int established = 2000;  ///< E: established TCP pairs (both ends kept open)
  int extra_fds = 100;     ///< F: other fds per process: /dev/null and unix socket pairs
  bool busy = false;       ///< every process wakes every 100 ms (never idle)
  int namespaces = 0;      ///< N: network namespaces, each made by one more process
  int namespace_listeners = 20;  ///< TCP listeners of each namespace's process
};

/// A tree of fixture processes: masters (children of the caller) and their workers. Every
/// fixture process dies with its parent (PR_SET_PDEATHSIG), so nothing outlives the caller,
/// even on SIGKILL; Stop(), the destructor, exit() and SIGINT/SIGTERM/SIGHUP kill the tree.
/// Build it while the caller is still single-threaded (it forks without exec).
class Fixture {
 public:
  struct Master {
    pid_t pid = 0;
    int control = -1;  ///< SOCK_SEQPACKET to the master
    std::vector<pid_t> workers;
    std::vector<uint16_t> tcp_ports;  ///< one per TCP listener (a v4 and a v6 one may share)
    std::vector<uint16_t> udp_ports;
    uint64_t netns = 0;  ///< inode of its network namespace
  };

  /// Builds the tree and waits until every process is ready. Exits the program with a
  /// message if that fails (after killing what was started).
  explicit Fixture(const FixtureOptions& options);
  ~Fixture();
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  /// The masters of the host's namespace (the caller's).
  const std::vector<Master>& masters() const { return masters_; }
  /// One process per network namespace of its own (unshare(CLONE_NEWNET), loopback up),
  /// holding namespace_listeners listeners; the namespace ends with it.
  const std::vector<Master>& namespaces() const { return namespaces_; }
  /// Every PID of the tree.
  std::vector<pid_t> Pids() const;
  /// Every listening or bound port of the tree (TCP and UDP).
  std::vector<uint16_t> Ports() const;

  /// Master i opens one more TCP listener on 127.0.0.1, port chosen by the kernel;
  /// returns the port (0 on failure).
  uint16_t Listen(size_t i);
  /// Master i closes its TCP listeners on port (both families); false if it had none.
  bool Close(size_t i, uint16_t port);
  /// Master i binds and listens on 127.0.0.1:port (a take-over); false on failure.
  bool Take(size_t i, uint16_t port);
  /// Master i forks one more worker; returns its PID (0 on failure).
  pid_t Fork(size_t i);
  /// Master i's newest worker exits; returns its PID (0 if it has none).
  pid_t ExitWorker(size_t i);

  /// Kills the whole tree and reaps the masters. Idempotent.
  void Stop();

 private:
  std::string Ask(size_t i, const std::string& command);

  std::vector<Master> masters_;
  std::vector<Master> namespaces_;
};

/// Inode of the network namespace a /proc/PID/ns/net (or /proc/self/ns/net) refers to; 0 if
/// unreadable.
uint64_t NetnsInode(const std::string& path);

/// Counts the open fds of every process (entries of /proc/*/fd).
uint64_t CountHostFds();

}  // namespace portwarden::bench
